import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// What our writer produces is read correctly by the independent Python reader
/// (`../shared/tools/read_checkpoint.py`, reference Appendix A).
@Suite struct PythonReaderTests {
    @Test func pythonReaderDecodesOurStream() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/runner"
        let writer = try CheckpointWriter(path: path, policy: .always)
        try writer.append(contentsOf: [
            .taskStatus(TaskStatus(state: .active, timestampMs: 1_795_457_584_701, runnerPid: 29858, runnerUid: 0)),
            .runnerHeader(RunnerHeader(
                taskID: "hello", launchTimeMs: 1_795_457_584_700, sandbox: "/srv/sb/hello", hostname: "vm",
                user: "root", ports: ["world": 50001, "hello": 50000], logDir: "/srv/sb/hello/.logs", uid: 0)),
            .processStatus(ProcessStatus(seq: 0, process: "hello", state: .waiting)),
            .processStatus(ProcessStatus(seq: 1, process: "hello", state: .forked, coordinatorPid: 29901, forkTime: 1_795_457_584.71)),
            .processStatus(ProcessStatus(seq: 2, process: "hello", state: .running, startTime: 1_795_457_584.732223, pid: 29903)),
            .processStatus(ProcessStatus(seq: 3, process: "hello", state: .failed, stopTime: 1_795_457_584.749107, returnCode: 1)),
            .taskStatus(TaskStatus(state: .failed, timestampMs: 1_795_457_585_000, runnerPid: 29858, runnerUid: 0)),
        ])
        try writer.close()

        let result = CommandRunner.run(["python3", TestPaths.pythonReader, path])
        #expect(result.status == 0, "python reader failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines == [
            #"{"task_status": {"runner_pid": 29858, "runner_uid": 0, "state": 0, "timestamp_ms": 1795457584701}}"#,
            #"{"runner_header": {"hostname": "vm", "launch_time_ms": 1795457584700, "log_dir": "/srv/sb/hello/.logs", "ports": {"hello": 50000, "world": 50001}, "sandbox": "/srv/sb/hello", "task_id": "hello", "uid": 0, "user": "root"}}"#,
            #"{"process_status": {"process": "hello", "seq": 0, "state": 0}}"#,
            #"{"process_status": {"coordinator_pid": 29901, "fork_time": 1795457584.71, "process": "hello", "seq": 1, "state": 1}}"#,
            #"{"process_status": {"pid": 29903, "process": "hello", "seq": 2, "start_time": 1795457584.732223, "state": 2}}"#,
            #"{"process_status": {"process": "hello", "return_code": 1, "seq": 3, "state": 5, "stop_time": 1795457584.749107}}"#,
            #"{"task_status": {"runner_pid": 29858, "runner_uid": 0, "state": 2, "timestamp_ms": 1795457585000}}"#,
        ])
    }
}
