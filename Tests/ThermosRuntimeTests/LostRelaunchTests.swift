import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosConfig
import ThermosTestSupport
@testable import ThermosRuntime

/// After a host crash the replayed run is RUNNING with its coordinator gone: the new runner marks
/// it LOST and must relaunch it as soon as `min_duration` allows — never on a safety timer
/// (issue 12 item 3: the plan was copied before the LOST record, so only the 15 s timer woke it).
struct LostRelaunchTests {
    @Test(arguments: [0, 1, 7])
    func lostRunIsRelaunchedAfterMinDurationOnly(minDuration: Int) throws {
        let directory = TemporaryDirectory(prefix: "thermos-lost")
        defer { directory.remove() }
        let platform = FakePlatform()
        let root = directory.path + "/root"
        let crashed = platform.clock - 5
        try TaskFiles.makeDirectories(root + "/checkpoints/task")
        let writer = try CheckpointWriter(path: TaskPath.runnerCheckpoint(root: root, taskID: "task"), policy: .none)
        try writer.append(contentsOf: [
            .taskStatus(TaskStatus(state: .active, timestampMs: Int64(crashed * 1000) - 1000, runnerPid: 999_999, runnerUid: 0)),
            .runnerHeader(RunnerHeader(taskID: "task", launchTimeMs: Int64(crashed * 1000) - 1000, sandbox: directory.path + "/sandbox")),
            .processStatus(ProcessStatus(seq: 0, process: "p", state: .waiting)),
            .processStatus(ProcessStatus(seq: 1, process: "p", state: .forked, coordinatorPid: 999_998, forkTime: crashed - 1)),
            .processStatus(ProcessStatus(seq: 2, process: "p", state: .running, startTime: crashed - 1, pid: 999_997)),
        ])
        try writer.close()
        let task = TaskConfig(name: "t", processes: [ProcessConfig(name: "p", cmdline: "x", minDuration: minDuration)])
        let configuration = RunnerConfiguration(
            task: task, taskID: "task", root: root, sandbox: directory.path + "/sandbox", user: "tester",
            uid: Int32(bitPattern: getuid()), hostname: "host", launchTime: crashed - 1)
        let start = platform.clock
        let runner = try TaskRunner(configuration: configuration, platform: platform)
        #expect(try runner.run() == .success)
        #expect(runner.state.processes["p"]?.map(\.state) == [.lost, .success])
        let relaunch = try #require(runner.state.processes["p"]?.last?.forkTime)
        #expect(relaunch - start >= Double(minDuration))
        #expect(relaunch - start < Double(minDuration) + 0.01, "relaunched \(relaunch - start) s after the takeover")
    }
}
