import Testing
import ThermosConfig
import ThermosPlanner

/// The time-dependent rows of reference §6.2: min_duration throttling, waits, failure limits,
/// losses and the run limit. Times are explicit seconds.
extension TaskPlannerTests {
    @Test func daemonDuration() throws {
        var planner = try TaskPlanner(task: task([process("p1", maxFailures: 2, daemon: true, minDuration: 10)]))
        #expect(planner.runnableAt(0).contains("p1"))

        try planner.setRunning("p1")
        try planner.addSuccess("p1", at: 5)
        #expect(!planner.runnableAt(5).contains("p1"))
        #expect(!planner.runnableAt(10).contains("p1"))
        #expect(planner.runnableAt(15).contains("p1"))
        #expect(planner.runnableAt(20).contains("p1"))

        try planner.setRunning("p1")
        try planner.addFailure("p1", at: 10)
        #expect(!planner.runnableAt(10).contains("p1"))
        #expect(!planner.runnableAt(15).contains("p1"))
        #expect(planner.runnableAt(20).contains("p1"))
        #expect(planner.runnableAt(25).contains("p1"))

        try planner.setRunning("p1")
        try planner.addFailure("p1", at: 15)
        for time in [15.0, 20, 25, 30] {
            #expect(!planner.runnableAt(time).contains("p1"), "past the failure limit at \(time)")
        }
        #expect(planner.failed == ["p1"])
    }

    @Test func waitsFollowTheMinDurationArithmetic() throws {
        var planner = try TaskPlanner(task: task([
            process("d3", maxFailures: 0, daemon: true, minDuration: 3),
            process("d5", maxFailures: 0, daemon: true, minDuration: 5),
            process("d7", maxFailures: 0, daemon: true, minDuration: 7),
        ]))
        #expect(planner.runnableAt(0) == ["d3", "d5", "d7"])
        #expect(planner.minWait(0) == 0)

        try planner.setRunning("d3")
        try planner.addSuccess("d3", at: 0)
        #expect(planner.runnableAt(0) == ["d5", "d7"])
        #expect(planner.waitingAt(0) == ["d3"])
        #expect(planner.getWait("d3", at: 0) == 3)
        #expect(planner.getWait("d3", at: 1) == 2)
        #expect(planner.getWait("d3", at: 4) == -1)
        #expect(!planner.isReady("d3", at: 2.5))
        #expect(planner.isReady("d3", at: 3))
        #expect(planner.minWait(0) == 0)
        #expect(planner.minWait(1) == 0)
        #expect(planner.waitingAt(3).isEmpty)
        #expect(planner.runnableAt(3) == ["d3", "d5", "d7"])

        try planner.setRunning("d3")
        try planner.setRunning("d7")
        try planner.addSuccess("d7", at: 1)
        #expect(planner.minWait(2) == 0)  // d5 still ready
        try planner.setRunning("d5")
        #expect(planner.minWait(2) == 6)  // only d7 waits: 7 - (2 - 1)
        try planner.addSuccess("d5", at: 2)
        try planner.addSuccess("d3", at: 2)
        #expect(planner.minWait(3) == 2)  // d3: 3 - (3 - 2) = 2, d5: 4, d7: 5
        #expect(planner.runnableAt(2).isEmpty)
        #expect(planner.waitingAt(2) == ["d3", "d5", "d7"])
        #expect(planner.runnableAt(5) == ["d3"])
        #expect(planner.runnableAt(7) == ["d3", "d5"])
        #expect(planner.runnableAt(8) == ["d3", "d5", "d7"])
        #expect(planner.minWait(8) == 0)
    }

    @Test func failuresPastTheLimitLeaveNothingToWaitFor() throws {
        let twoProcesses = task([process("d1", minDuration: 1), process("d2", minDuration: 1)])

        var bothFail = try TaskPlanner(task: twoProcesses)
        #expect(bothFail.runnableAt(0) == ["d1", "d2"])
        try bothFail.setRunning("d1")
        try bothFail.setRunning("d2")
        #expect(bothFail.runnableAt(0).isEmpty)
        #expect(try bothFail.addFailure("d1", at: 0) == .failed)
        #expect(try bothFail.addFailure("d2", at: 0) == .failed)
        #expect(bothFail.runnableAt(0).isEmpty)
        #expect(bothFail.minWait(0) == TaskPlanner.infinity)
        #expect(TaskPlanner.infinity == Double.greatestFiniteMagnitude)

        var forcedFailure = try TaskPlanner(task: twoProcesses)
        try forcedFailure.setRunning("d1")
        try forcedFailure.setFailed("d1")
        #expect(forcedFailure.failed == ["d1"])
        #expect(forcedFailure.runnableAt(0) == ["d2"])
        try forcedFailure.setRunning("d2")
        #expect(forcedFailure.runnableAt(0).isEmpty)
        try forcedFailure.addFailure("d2", at: 0)
        #expect(forcedFailure.runnableAt(0).isEmpty)
        #expect(forcedFailure.minWait(0) == TaskPlanner.infinity)
    }

    @Test func daemonWithZeroMaxFailuresRetriesForever() throws {
        var planner = try TaskPlanner(task: task([process("d1", maxFailures: 0, daemon: true, minDuration: 1)]))
        var now = 0.0
        for _ in 0..<10 {
            try planner.setRunning("d1")
            #expect(planner.running.contains("d1"))
            #expect(!planner.failed.contains("d1"))
            #expect(try planner.addFailure("d1", at: now) == .rescheduled)
            #expect(!planner.running.contains("d1"))
            #expect(!planner.failed.contains("d1"))
            now += 1
            try planner.setRunning("d1")
            #expect(planner.running.contains("d1"))
            #expect(try planner.addSuccess("d1", at: now) == .rescheduled)
            #expect(!planner.running.contains("d1"))
            #expect(!planner.failed.contains("d1"))
            #expect(!planner.finished.contains("d1"))
            now += 1
        }
        #expect(planner.failures(of: "d1") == 10)
        #expect(planner.successes(of: "d1") == 10)
    }

    @Test func nonDaemonWithZeroMaxFailuresRetriesUntilItSucceeds() throws {
        var planner = try TaskPlanner(task: task([process("d1", maxFailures: 0, minDuration: 1)]))
        try planner.setRunning("d1")
        #expect(planner.running.contains("d1"))
        try planner.addFailure("d1", at: 0)
        #expect(!planner.running.contains("d1"))
        #expect(!planner.failed.contains("d1"))
        try planner.setRunning("d1")
        #expect(planner.running.contains("d1"))
        #expect(try planner.addSuccess("d1", at: 1) == .finished)
        #expect(!planner.running.contains("d1"))
        #expect(!planner.failed.contains("d1"))
        #expect(planner.finished.contains("d1"))
    }

    @Test func lostRunsAreThrottledButDoNotConsumeFailures() throws {
        let single = task([process("d1", maxFailures: 2, minDuration: 1)])

        var success = try TaskPlanner(task: single)
        #expect(success.runnableAt(0) == ["d1"])
        try success.setRunning("d1")
        try success.addSuccess("d1", at: 0)
        #expect(success.minWait(0) == TaskPlanner.infinity)

        var failures = try TaskPlanner(task: single)
        try failures.setRunning("d1")
        try failures.addFailure("d1", at: 1)
        #expect(failures.minWait(1) == 1)
        try failures.setRunning("d1")
        try failures.addFailure("d1", at: 3)
        #expect(failures.minWait(3) == TaskPlanner.infinity)

        var lost = try TaskPlanner(task: single)
        try lost.setRunning("d1")
        try lost.addFailure("d1", at: 1)
        #expect(lost.minWait(1) == 1)
        try lost.setRunning("d1")
        #expect(try lost.lost("d1", at: 2) == .rescheduled)
        #expect(lost.minWait(2) == 1)  // throttled from the loss at 2, not the failure at 1
        #expect(lost.waitingAt(2) == ["d1"])
        #expect(lost.runnableAt(3) == ["d1"])
        #expect(lost.failures(of: "d1") == 1)
        #expect(lost.losses(of: "d1") == 1)
        try lost.setRunning("d1")
        try lost.addFailure("d1", at: 3)
        #expect(lost.minWait(3) == TaskPlanner.infinity)
        #expect(lost.failed == ["d1"])
    }

    @Test func runLimitCountsFailuresSuccessesAndLosses() throws {
        var regular = try TaskPlanner(task: task([process("d1", maxFailures: 100)]), totalRunLimit: 3)
        try regular.setRunning("d1")
        try regular.addFailure("d1", at: 1)
        #expect(regular.runnable.contains("d1"))
        try regular.setRunning("d1")
        try regular.lost("d1", at: 2)
        #expect(regular.runnable.contains("d1"))
        #expect(!regular.hasReachedRunLimit("d1"))
        try regular.setRunning("d1")
        #expect(try regular.addFailure("d1", at: 3) == .failed)
        #expect(!regular.runnable.contains("d1"))
        #expect(regular.hasReachedRunLimit("d1"))
        #expect(regular.failed == ["d1"])

        var daemon = try TaskPlanner(
            task: task([process("d1", maxFailures: 100, daemon: true)]), totalRunLimit: 3)
        try daemon.setRunning("d1")
        try daemon.addFailure("d1", at: 1)
        #expect(daemon.runnable.contains("d1"))
        try daemon.setRunning("d1")
        try daemon.addSuccess("d1", at: 2)
        #expect(daemon.runnable.contains("d1"))
        try daemon.setRunning("d1")
        #expect(try daemon.lost("d1", at: 3) == .failed)
        #expect(!daemon.runnable.contains("d1"))
        #expect(daemon.failed == ["d1"])
        #expect(daemon.isComplete)
    }

    @Test func runLimitAppliesToSuccessesOfNonDaemons() throws {
        var planner = try TaskPlanner(task: task([process("d1", maxFailures: 0)]), totalRunLimit: 2)
        try planner.setRunning("d1")
        try planner.addFailure("d1", at: 1)
        try planner.setRunning("d1")
        // The limit is checked before the success rule: the second run fails the process.
        #expect(try planner.addSuccess("d1", at: 2) == .failed)
        #expect(planner.failed == ["d1"])
        #expect(planner.finished.isEmpty)
    }
}
