import OrderedCollections
import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Fault tests: the runner is SIGKILLed at chosen points of a three-process chain; `thermos run`
/// again with the same task id re-attaches and finishes, and every process ran exactly once.
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct CrashRecoveryTests {
    static let chain = #"""
        {"name": "chain", "processes": [
          {"name": "a", "cmdline": "echo a >> runs.a; sleep 0.3"},
          {"name": "b", "cmdline": "echo b >> runs.b; sleep 0.3"},
          {"name": "c", "cmdline": "echo c >> runs.c"}],
         "constraints": [{"order": ["a", "b", "c"]}]}
        """#

    @Test(arguments: ["after-waiting:b", "after-spawn:b", "after-forked:b", "after-end:a"])
    func resumedTaskRunsEveryProcessExactlyOnce(crashPoint: String) {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        let crashed = fixture.run(config, taskID: "chain", environment: ["THERMOS_CRASH_AT": crashPoint])
        #expect(crashed.status == 128 + SIGKILL, "the runner must die at \(crashPoint)")
        #expect(fixture.taskStates("chain") == [.active])
        let resumed = fixture.run(config, taskID: "chain")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectRanOnce(fixture)
        // The takeover writes the current state again, like the original.
        #expect(fixture.taskStates("chain") == [.active, .active, .cleaning, .finalizing, .success])
    }

    @Test func runnerKilledWhileAProcessRunsIsResumed() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        let runner = fixture.start(config, taskID: "chain")
        let running = try #require(fixture.waitForRunning("chain", "b"))
        runner.signal(SIGKILL)
        runner.wait()
        #expect(isAlive(running.coordinatorPid!) || fixture.read("runs.b") != nil, "the process survives the runner")
        #expect(fixture.run(config, taskID: "chain").status == 0)
        expectRanOnce(fixture)
    }

    @Test func forceTakesOverFromALiveRunner() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        // Slow enough that the takeover starts before the first runner is done, even on a loaded
        // machine (with 0.3 s sleeps the task sometimes finished first: "already finished").
        let config = fixture.config(Self.chain.replacing("sleep 0.3", with: "sleep 2"))
        let runner = fixture.start(config, taskID: "chain")
        _ = try #require(fixture.waitForRunning("chain", "a"))
        let takeover = fixture.run(config, taskID: "chain", ["--force"])
        #expect(takeover.status == 0, "\(takeover.stderr)")
        #expect(takeover.stderr.contains("Successfully killed leader."))
        #expect(runner.wait() == 128 + SIGKILL)
        expectRanOnce(fixture)
    }

    @Test func tornLastRecordIsTruncatedBeforeAppending() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        #expect(fixture.run(config, taskID: "chain", environment: ["THERMOS_CRASH_AT": "after-end:a"]).status == 128 + SIGKILL)
        let path = TaskPath.runnerCheckpoint(root: fixture.root, taskID: "chain")
        let fd = open(path, O_WRONLY | O_APPEND)
        let partial: [UInt8] = [0, 0, 0, 40, 12, 0, 2]
        partial.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let resumed = fixture.run(config, taskID: "chain")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("torn last record"))
        let stream = try CheckpointReader.read(path: path)
        #expect(stream.tail == .clean)
        expectRanOnce(fixture)
    }

    private func expectRanOnce(_ fixture: RunnerFixture, sourceLocation: SourceLocation = #_sourceLocation) {
        for name in ["a", "b", "c"] {
            #expect(fixture.read("runs.\(name)") == "\(name)\n", "\(name) ran exactly once", sourceLocation: sourceLocation)
            #expect(fixture.runs("chain", name).map(\.state) == [.success], "\(name)", sourceLocation: sourceLocation)
        }
        #expect(fixture.taskStates("chain").last == .success, sourceLocation: sourceLocation)
    }
}

extension CrashRecoveryTests {
    @Test func aResumedTaskMustBeTheTaskOnDisk() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        #expect(fixture.run(config, taskID: "chain", environment: ["THERMOS_CRASH_AT": "after-end:a"]).status == 128 + SIGKILL)
        let other = fixture.config(Self.chain.replacing("echo c", with: "echo C"), name: "other.json")
        let before = fixture.records("chain")
        let refused = fixture.run(other, taskID: "chain")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("Task differs from on disk copy"))
        #expect(fixture.records("chain") == before)
        #expect(fixture.run(config, taskID: "chain").status == 0)
    }
}
