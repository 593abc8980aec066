import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner
import ThermosTestSupport
@testable import ThermosRuntime

/// The runner state machine on a simulated machine: every scenario runs in milliseconds of real
/// time, whatever the simulated durations (min_duration, finalization_wait, LOST_TIMEOUT).
struct TaskRunnerStateMachineTests {
    struct Harness {
        let directory = TemporaryDirectory(prefix: "thermos-fsm")
        let platform = FakePlatform()

        func runner(_ task: TaskConfig, runLimit: Int = .max) throws -> TaskRunner {
            let configuration = RunnerConfiguration(
                task: task, taskID: "task", root: directory.path + "/root", sandbox: directory.path + "/sandbox",
                user: "tester", uid: Int32(bitPattern: getuid()), hostname: "host", totalRunLimit: runLimit,
                launchTime: platform.clock)
            return try TaskRunner(configuration: configuration, platform: platform)
        }

        func records() -> [RunnerCkpt] {
            (try? CheckpointReader.read(path: directory.path + "/root/checkpoints/task/runner"))?.records ?? []
        }

        func taskStates() -> [TaskState] {
            records().compactMap { if case .taskStatus(let status) = $0 { status.state } else { nil } }
        }
    }

    func process(_ name: String, _ cmdline: String = "x", maxFailures: Int = 1, minDuration: Int = 5, ephemeral: Bool = false, final: Bool = false) -> ProcessConfig {
        ProcessConfig(name: name, cmdline: cmdline, maxFailures: maxFailures, ephemeral: ephemeral, minDuration: minDuration, final: final)
    }

    @Test func aSuccessfulProcessWritesTheOriginalSequence() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("hello")]))
        #expect(try runner.run() == .success)
        #expect(harness.taskStates() == [.active, .cleaning, .finalizing, .success])
        let states = runner.state.processes["hello"]?.map(\.state)
        #expect(states == [.success])
        #expect(harness.platform.launches.map(\.process) == ["hello"])
        #expect(harness.platform.launches.first?.logDirectory == harness.directory.path + "/sandbox/.logs/hello/0")
    }

    @Test func failuresAreRetriedAfterMinDurationOfSimulatedTime() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["p"] = [.exits(1, after: 1), .exits(1, after: 1), .exits(0, after: 1)]
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("p", maxFailures: 3, minDuration: 30)]))
        #expect(try runner.run() == .success)
        let runs = try #require(runner.state.processes["p"])
        #expect(runs.map(\.state) == [.failed, .failed, .success])
        for (ended, next) in zip(runs, runs.dropFirst()) {
            #expect(next.forkTime! - ended.stopTime! >= 30)
        }
    }

    @Test func theTaskFailsAtItsFailureLimit() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours = ["a": [.exits(1, after: 1)], "b": [.exits(1, after: 1)]]
        let task = TaskConfig(name: "t", processes: [process("a"), process("b"), process("c")], maxFailures: 2)
        #expect(try harness.runner(task).run() == .failed)
    }

    @Test func maxConcurrencyIsNeverExceeded() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        let processes = (1...5).map { process("p\($0)") }
        #expect(try harness.runner(TaskConfig(name: "t", processes: processes, maxConcurrency: 2)).run() == .success)
        #expect(harness.platform.peakConcurrency == 2)
        #expect(harness.platform.launches.count == 5)
    }

    @Test func aVanishedCoordinatorIsLostAndRerunWithoutConsumingAFailure() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["p"] = [.coordinatorDies(after: 2), .exits(0, after: 1)]
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("p", maxFailures: 1, minDuration: 0)]))
        #expect(try runner.run() == .success)
        #expect(runner.state.processes["p"]?.map(\.state) == [.lost, .success])
    }

    @Test func aCoordinatorStuckBeforeRunningIsLostAfterSixtySeconds() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["p"] = [.neverStarts, .exits(0, after: 1)]
        let start = harness.platform.clock
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("p", minDuration: 0)]))
        #expect(try runner.run() == .success)
        let runs = try #require(runner.state.processes["p"])
        #expect(runs.map(\.state) == [.lost, .success])
        #expect(runs[1].forkTime! - start > TaskRunner.lostTimeout)
    }

    @Test func aKillRequestStagesTheKillAndStillRunsFinalizers() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["main"] = [.runsUntilKilled(ignoresTerm: false)]
        harness.platform.request(.killRequested, after: 10)
        let task = TaskConfig(name: "t", processes: [process("main"), process("finalizer", final: true)])
        let runner = try harness.runner(task)
        #expect(try runner.run() == .killed)
        #expect(harness.taskStates() == [.active, .active, .cleaning, .finalizing, .killed])
        #expect(runner.state.processes["main"]?.last?.returnCode == -15)
        #expect(runner.state.processes["finalizer"]?.last?.state == .success)
        #expect(harness.platform.terminated == ["main"])
    }

    @Test func aLoseRequestEndsLostAndKillsWhatIsLeft() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["main"] = [.runsUntilKilled(ignoresTerm: true)]
        harness.platform.request(.loseRequested, after: 3)
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("main")]))
        #expect(try runner.run() == .lost)
        #expect(harness.taskStates() == [.active, .active, .cleaning, .lost])
        let last = runner.state.processes["main"]?.last
        #expect(last?.state == .killed && last?.returnCode == -1)
        #expect(harness.platform.live.isEmpty)
    }

    @Test func theFinalizationBudgetCoversCleaningAndSkipsFinalizing() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["stubborn"] = [.runsUntilKilled(ignoresTerm: true)]
        let task = TaskConfig(
            name: "t", processes: [process("main"), process("stubborn", ephemeral: true), process("finalizer", final: true)],
            finalizationWait: 3)
        let runner = try harness.runner(task)
        #expect(try runner.run() == .success)
        #expect(harness.taskStates() == [.active, .cleaning, .success])
        #expect(runner.state.processes["stubborn"]?.last?.returnCode == -1)
        #expect(runner.state.processes["finalizer"] == nil)
        let cleaning = harness.records().compactMap { if case .taskStatus(let s) = $0, s.state == .cleaning || s.state == .success { s.timestampMs } else { nil } }
        #expect(cleaning.count == 2 && cleaning[1] - cleaning[0] >= 3000)
    }

    @Test func aLaunchFailureIsRecordedFailedFromWaiting() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.failingLaunches = ["p"]
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("p")]))
        #expect(try runner.run() == .failed)
        let records = harness.records().compactMap { if case .processStatus(let s) = $0 { s.state } else { nil } }
        #expect(records == [.waiting, .failed])
    }

    @Test func theRunLimitStopsAProcessThatNeverSucceeds() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        harness.platform.behaviours["p"] = Array(repeating: .exits(1, after: 0.1), count: 10)
        let runner = try harness.runner(TaskConfig(name: "t", processes: [process("p", maxFailures: 0, minDuration: 0)]), runLimit: 4)
        #expect(try runner.run() == .failed)
        #expect(runner.state.processes["p"]?.count == 4)
    }

    @Test func aFinishedTaskIsNotTouchedAgain() throws {
        let harness = Harness()
        defer { harness.directory.remove() }
        #expect(try harness.runner(TaskConfig(name: "t", processes: [process("p")])).run() == .success)
        let before = harness.records()
        let again = try harness.runner(TaskConfig(name: "t", processes: [process("p")]))
        #expect(again.isTerminal)
        #expect(try again.run() == .success)
        #expect(harness.records() == before)
        #expect(harness.platform.launches.count == 1)
    }
}
