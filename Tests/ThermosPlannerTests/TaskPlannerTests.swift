import Testing
import ThermosConfig
import ThermosPlanner

/// Completion, ordering rules and filters of `TaskPlanner` (reference §6.2); the time-dependent
/// rows are in `TaskPlannerTimingTests.swift`.
@Suite("TaskPlanner")
struct TaskPlannerTests {
    @Test func construction() throws {
        let empty = try TaskPlanner(task: emptyTask)
        #expect(empty.runnable.isEmpty)
        #expect(empty.isComplete)

        let unordered = try TaskPlanner(task: unorderedTask)
        #expect(unordered.runnable == ["p1", "p2", "p3"])
        #expect(unordered.runnableAt(0) == ["p1", "p2", "p3"])
        #expect(!unordered.isComplete)

        let ordered = try TaskPlanner(task: orderedTask)
        #expect(ordered.runnable == ["p1"])
        #expect(!ordered.isComplete)
        #expect(ordered.totalRunLimit == Int.max)
    }

    @Test func finishWithEphemerals() throws {
        var pureEphemeral = try TaskPlanner(task: task([process("p1", ephemeral: true)]))
        #expect(pureEphemeral.isComplete)
        try pureEphemeral.setRunning("p1")
        #expect(pureEphemeral.isComplete)
        #expect(try pureEphemeral.addFailure("p1", at: 0) == .finished)
        #expect(pureEphemeral.isComplete)
        #expect(pureEphemeral.failed.isEmpty)
        #expect(pureEphemeral.finished == ["p1"])

        var withEphemeral = try TaskPlanner(task: task([process("p1"), process("p2", ephemeral: true)]))
        #expect(!withEphemeral.isComplete)
        #expect(withEphemeral.runnable == ["p1", "p2"])
        try withEphemeral.setRunning("p1")
        #expect(!withEphemeral.isComplete)
        #expect(try withEphemeral.addFailure("p1", at: 0) == .failed)
        #expect(withEphemeral.isComplete)
        try withEphemeral.setRunning("p2")
        #expect(withEphemeral.isComplete)
        try withEphemeral.addFailure("p2", at: 0)
        #expect(withEphemeral.isComplete)
        #expect(withEphemeral.failed == ["p1"])
        #expect(withEphemeral.finished == ["p2"])
    }

    @Test func daemonsAreStillBoundByTheirFailureLimit() throws {
        var oneFailure = try TaskPlanner(task: task([process("p1", daemon: true)]))
        #expect(!oneFailure.isComplete)
        try oneFailure.setRunning("p1")
        #expect(!oneFailure.isComplete)
        try oneFailure.addFailure("p1", at: 0)
        #expect(oneFailure.isComplete)
        #expect(oneFailure.failed == ["p1"])

        var twoFailures = try TaskPlanner(task: task([process("p1", maxFailures: 2, daemon: true)]))
        try twoFailures.setRunning("p1")
        #expect(try twoFailures.addFailure("p1", at: 0) == .rescheduled)
        #expect(!twoFailures.isComplete)
        try twoFailures.setRunning("p1")
        #expect(!twoFailures.isComplete)
        #expect(try twoFailures.addFailure("p1", at: 10) == .failed)
        #expect(twoFailures.isComplete)
    }

    @Test func daemonSuccessesDoNotCountTowardCompletion() throws {
        var planner = try TaskPlanner(task: task([process("p1", maxFailures: 2, daemon: true)]))
        try planner.setRunning("p1")
        try planner.addFailure("p1", at: 0)
        #expect(!planner.isComplete)
        try planner.setRunning("p1")
        #expect(try planner.addSuccess("p1", at: 10) == .rescheduled)
        #expect(!planner.isComplete)
        #expect(planner.finished.isEmpty)
        try planner.setRunning("p1")
        #expect(!planner.isComplete)
        try planner.addFailure("p1", at: 20)
        #expect(planner.isComplete)
        #expect(planner.successes(of: "p1") == 1)
        #expect(planner.failures(of: "p1") == 2)
    }

    @Test func daemonEphemeralsDoNotHoldTheTaskUp() throws {
        var planner = try TaskPlanner(
            task: task([process("p1"), process("p2", maxFailures: 2, daemon: true, ephemeral: true)]))
        #expect(!planner.isComplete)
        try planner.setRunning("p1")
        try planner.setRunning("p2")
        #expect(!planner.isComplete)
        try planner.addSuccess("p1", at: 0)
        #expect(planner.isComplete)
        #expect(planner.running == ["p2"])
    }

    @Test func processCannotDependUponDaemon() {
        let error = #expect(throws: InvalidSchedule.self) {
            try TaskPlanner(task: task([process("p1", daemon: true), process("p2")], orders: [["p1", "p2"]]))
        }
        #expect(error?.message == "Process p2 may not depend upon daemon process p1")
    }

    @Test func nonEphemeralProcessCannotDependOnEphemeralProcess() {
        let error = #expect(throws: InvalidSchedule.self) {
            try TaskPlanner(task: task([process("p1", ephemeral: true), process("p2")], orders: [["p1", "p2"]]))
        }
        #expect(error?.message == "Non-ephemeral process p2 may not depend upon ephemeral process p1")
        // The reverse direction, and ephemeral on ephemeral, are allowed.
        #expect(throws: Never.self) {
            try TaskPlanner(task: task([process("p1"), process("p2", ephemeral: true)], orders: [["p1", "p2"]]))
        }
        #expect(throws: Never.self) {
            try TaskPlanner(
                task: task([process("p1", ephemeral: true), process("p2", ephemeral: true)], orders: [["p1", "p2"]]))
        }
    }

    @Test func cyclicConstraintsAreInvalid() {
        let error = #expect(throws: InvalidSchedule.self) {
            try TaskPlanner(task: task([process("p1"), process("p2")], orders: [["p1", "p2"], ["p2", "p1"]]))
        }
        #expect(error?.message == "Cycles detected in the task schedule!")
    }

    @Test func failedPredecessorDoesNotMakeProcessRunnable() throws {
        let chain = task([process("p1"), process("p2")], orders: [["p1", "p2"]])

        var succeeded = try TaskPlanner(task: chain)
        try succeeded.setRunning("p1")
        try succeeded.addSuccess("p1", at: 0)
        #expect(succeeded.runnable.contains("p2"))
        #expect(!succeeded.isComplete)
        #expect(!succeeded.isDeadlocked)

        var failed = try TaskPlanner(task: chain)
        try failed.setRunning("p1")
        try failed.addFailure("p1", at: 0)
        #expect(!failed.runnable.contains("p2"))
        #expect(failed.runnableAt(100).isEmpty)
        #expect(failed.waitingAt(100).isEmpty)
        #expect(!failed.isComplete)
        #expect(failed.isDeadlocked)
        #expect(failed.minWait(100) == TaskPlanner.infinity)
    }

    @Test func deadlockNeedsNothingRunningRunnableOrWaitingAndAnIncompletePlan() throws {
        var planner = try TaskPlanner(task: task([process("p1", maxFailures: 2, minDuration: 10)]))
        #expect(!planner.isDeadlocked)  // runnable
        try planner.setRunning("p1")
        #expect(!planner.isDeadlocked)  // running
        try planner.addFailure("p1", at: 0)
        #expect(planner.runnableAt(1).isEmpty)
        #expect(!planner.isDeadlocked)  // waiting out min_duration
        try planner.setRunning("p1")
        try planner.addSuccess("p1", at: 20)
        #expect(planner.isComplete)
        #expect(!planner.isDeadlocked)  // complete
        #expect(try TaskPlanner(task: emptyTask).isDeadlocked == false)
    }

    @Test func filtersSelectTheirProcessesAndRejectMixedOrders() throws {
        let processes = ["p1", "p2", "p3", "f1", "f2", "f3"].map { process($0) }
        let separateOrders = task(processes, orders: [["p1", "p2", "p3"], ["f1", "f2", "f3"]])
        let startsWithP: (ProcessConfig) -> Bool = { $0.name.hasPrefix("p") }
        let startsWithF: (ProcessConfig) -> Bool = { $0.name.hasPrefix("f") }

        let pPlanner = try TaskPlanner(task: separateOrders, processFilter: startsWithP)
        #expect(pPlanner.processes == ["p1", "p2", "p3"])
        #expect(pPlanner.runnable == ["p1"])
        let fPlanner = try TaskPlanner(task: separateOrders, processFilter: startsWithF)
        #expect(fPlanner.processes == ["f1", "f2", "f3"])
        #expect(fPlanner.runnable == ["f1"])

        let mixedOrder = task(processes, orders: [["p1", "f1"]])
        for filter in [startsWithP, startsWithF] {
            let error = #expect(throws: InvalidSchedule.self) {
                try TaskPlanner(task: mixedOrder, processFilter: filter)
            }
            #expect(error?.message == "Invalid process dependencies!")
        }
    }

    @Test func regularAndFinalizingPlansSplitOnFinal() throws {
        let mixed = task(
            [process("setup"), process("ephemeral", ephemeral: true), process("main"),
             process("cleanup", final: true), process("upload", final: true)],
            orders: [["setup", "main"], ["cleanup", "upload"]])

        let regular = try TaskPlanner.regular(for: mixed)
        #expect(regular.processes == ["setup", "ephemeral", "main"])
        #expect(regular.ephemerals == ["ephemeral"])
        #expect(regular.runnable == ["setup", "ephemeral"])
        #expect(regular.totalRunLimit == TaskPlanner.unlimitedRuns)

        let finalizing = try TaskPlanner.finalizing(for: mixed, totalRunLimit: TaskPlanner.runnerRunLimit)
        #expect(finalizing.processes == ["cleanup", "upload"])
        #expect(finalizing.runnable == ["cleanup"])
        #expect(finalizing.totalRunLimit == 100)

        let crossStage = task([process("main"), process("cleanup", final: true)], orders: [["main", "cleanup"]])
        #expect(throws: InvalidSchedule.self) { try TaskPlanner.regular(for: crossStage) }
        #expect(throws: InvalidSchedule.self) { try TaskPlanner.finalizing(for: crossStage) }
    }

    @Test func outcomesOfNonRunningProcessesThrowAndChangeNothing() throws {
        var planner = try TaskPlanner(task: unorderedTask)
        let before = planner
        let success = #expect(throws: PlannerError.self) { try planner.addSuccess("p1", at: 3) }
        #expect(success?.code == .notRunning)
        #expect(success?.process == "p1")
        #expect(success?.message == "Cannot record a success of process p1: expected it to be running, but it is runnable")
        let failure = #expect(throws: PlannerError.self) { try planner.addFailure("p2", at: 3) }
        #expect(failure?.code == .notRunning)
        let loss = #expect(throws: PlannerError.self) { try planner.lost("nope", at: 3) }
        #expect(loss?.actualState == .unknown)
        #expect(planner == before)
        #expect(planner.getWait("p1", at: 3) == 0)
        #expect(planner.successes(of: "p1") == 0)

        try planner.setRunning("p1")
        try planner.addSuccess("p1", at: 3)
        let rerun = #expect(throws: PlannerError.self) { try planner.setRunning("p1") }
        #expect(rerun?.code == .notRunnable)
        #expect(rerun?.actualState == .finished)
    }
}
