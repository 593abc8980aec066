import Testing
import ThermosConfig
import ThermosPlanner

/// runnable, running, finished of a planner, compared as one value.
private struct Details: Equatable, CustomStringConvertible {
    var runnable: Set<String>
    var running: Set<String>
    var finished: Set<String>

    init(_ runnable: Set<String>, _ running: Set<String>, _ finished: Set<String>) {
        self.runnable = runnable
        self.running = running
        self.finished = finished
    }

    init(of planner: Planner) {
        self.init(planner.runnable, planner.running, planner.finished)
    }

    var description: String { "runnable \(runnable.sorted()), running \(running.sorted()), finished \(finished.sorted())" }
}

@Suite("Planner")
struct PlannerTests {
    @Test func emptyPlannerHasNothingToDo() throws {
        let planner = try Planner(processes: [String]())
        #expect(Details(of: planner) == Details([], [], []))
        #expect(planner.isComplete)
    }

    @Test func unorderedProcessesAreAllRunnable() throws {
        var planner = try Planner(processes: ["p1", "p2", "p3"])
        #expect(Details(of: planner) == Details(["p1", "p2", "p3"], [], []))

        try planner.setRunning("p2")
        #expect(Details(of: planner) == Details(["p1", "p3"], ["p2"], []))

        let finishNotRunning = #expect(throws: PlannerError.self) { try planner.setFinished("p3") }
        #expect(finishNotRunning?.code == .notRunning)
        #expect(finishNotRunning?.process == "p3")
        #expect(finishNotRunning?.actualState == .runnable)
        #expect(finishNotRunning?.message == "Cannot set finished process p3: expected it to be running, but it is runnable")

        try planner.setRunning("p3")
        try planner.setFinished("p3")
        #expect(Details(of: planner) == Details(["p1"], ["p2"], ["p3"]))
        try planner.setFinished("p2")
        #expect(Details(of: planner) == Details(["p1"], [], ["p2", "p3"]))

        let resetFinished = #expect(throws: PlannerError.self) { try planner.reset("p3") }
        #expect(resetFinished?.code == .notRunning)
        #expect(resetFinished?.actualState == .finished)
        #expect(!planner.isComplete)

        try planner.setRunning("p1")
        try planner.setFinished("p1")
        #expect(planner.isComplete)
    }

    @Test func orderedProcessesRunOneAfterAnother() throws {
        var planner = try Planner(processes: ["p1", "p2", "p3"], prerequisites: ["p3": ["p2"], "p2": ["p1"]])
        #expect(Details(of: planner) == Details(["p1"], [], []))
        #expect(!planner.isComplete)
        for blocked in ["p2", "p3"] {
            let error = #expect(throws: PlannerError.self) { try planner.setRunning(blocked) }
            #expect(error?.code == .notRunnable)
            #expect(error?.actualState == .blocked)
            #expect(error?.message == "Cannot set running process \(blocked): expected it to be running or runnable, but it is blocked")
        }

        try planner.setRunning("p1")
        #expect(Details(of: planner) == Details([], ["p1"], []))
        try planner.setFinished("p1")
        #expect(Details(of: planner) == Details(["p2"], [], ["p1"]))
        for notRunning in ["p1", "p2", "p3"] {
            let error = #expect(throws: PlannerError.self) { try planner.reset(notRunning) }
            #expect(error?.code == .notRunning)
        }

        try planner.setRunning("p2")
        try planner.setFinished("p2")
        #expect(Details(of: planner) == Details(["p3"], [], ["p1", "p2"]))
        #expect(!planner.isComplete)
        try planner.setRunning("p3")
        try planner.setFinished("p3")
        #expect(planner.isComplete)
    }

    @Test func orderedAndFreeProcessesMix() throws {
        let planner = try Planner(
            processes: ["p1", "p2", "p3", "d1", "d2"], prerequisites: ["p3": ["p2"], "p2": ["p1"]])
        #expect(Details(of: planner) == Details(["p1", "d1", "d2"], [], []))
    }

    @Test func cyclesAreUnsatisfiable() {
        let twoCycle = #expect(throws: InvalidSchedule.self) {
            try Planner(processes: ["p1", "p2"], prerequisites: ["p1": ["p2"], "p2": ["p1"]])
        }
        #expect(twoCycle?.message == "Cycles detected in the task schedule!")
        let threeCycle = #expect(throws: InvalidSchedule.self) {
            try Planner(processes: ["p1", "p2", "p3"], prerequisites: ["p1": ["p2"], "p2": ["p3"], "p3": ["p1"]])
        }
        #expect(threeCycle?.message == "Cycles detected in the task schedule!")
    }

    @Test func prerequisiteOutsideTheProcessSetIsUnsatisfiable() {
        // As in the original: a prerequisite that is not scheduled can never finish.
        #expect(throws: InvalidSchedule.self) {
            try Planner(processes: ["p1"], prerequisites: ["p1": ["ghost"]])
        }
        // Prerequisites of processes that are not scheduled are ignored.
        #expect(throws: Never.self) {
            try Planner(processes: ["p1"], prerequisites: ["ghost": ["p1"]])
        }
    }

    @Test func failedPrerequisiteNeverSatisfiesItsDependents() throws {
        var planner = try Planner(processes: ["p1", "p2"], prerequisites: ["p2": ["p1"]])
        try planner.setRunning("p1")
        try planner.setFailed("p1")
        #expect(planner.failed == ["p1"])
        #expect(planner.runnable.isEmpty)
        #expect(planner.state(of: "p2") == .blocked)
        #expect(!planner.isComplete)
    }

    @Test func failedAndFinishedProcessesCannotRunAgain() throws {
        var planner = try Planner(processes: ["p1", "p2"])
        try planner.setRunning("p1")
        try planner.setFailed("p1")
        try planner.setRunning("p2")
        try planner.setFinished("p2")
        #expect(planner.isComplete)

        let rerunFailed = #expect(throws: PlannerError.self) { try planner.setRunning("p1") }
        #expect(rerunFailed?.actualState == .failed)
        let rerunFinished = #expect(throws: PlannerError.self) { try planner.setRunning("p2") }
        #expect(rerunFinished?.actualState == .finished)
        let failFinished = #expect(throws: PlannerError.self) { try planner.setFailed("p2") }
        #expect(failFinished?.code == .notRunning)
        let unknown = #expect(throws: PlannerError.self) { try planner.setRunning("nope") }
        #expect(unknown?.actualState == .unknown)
    }

    @Test func settingRunningTwiceIsAllowedAndResetMakesRunnableAgain() throws {
        var planner = try Planner(processes: ["p1"])
        try planner.setRunning("p1")
        try planner.setRunning("p1")
        #expect(planner.running == ["p1"])
        try planner.reset("p1")
        #expect(Details(of: planner) == Details(["p1"], [], []))
    }
}
