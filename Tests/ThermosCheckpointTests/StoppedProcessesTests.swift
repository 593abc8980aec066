import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `StoppedProcesses`: which processes `thermos stop` keeps down, replayed from records only.
@Suite struct StoppedProcessesTests {
    func killed(_ name: String, seq: Int64, control: ControlAction?) -> RunnerCkpt {
        .processStatus(ProcessStatus(seq: seq, process: name, state: .killed, stopTime: 2, returnCode: -1, control: control))
    }

    func decision(_ action: ControlAction?, _ name: String) -> RunnerCkpt {
        .taskStatus(TaskStatus(state: .active, timestampMs: 1, control: ControlDecision(action: action, process: name)))
    }

    @Test func aRunEndedByStopStopsItsProcess() {
        let stopped = StoppedProcesses.replaying([
            .taskStatus(TaskStatus(state: .active, timestampMs: 0)),
            .processStatus(ProcessStatus(seq: 0, process: "web", state: .running, startTime: 1)),
            killed("web", seq: 1, control: .stop),
        ])
        #expect(stopped.names == ["web"])
    }

    @Test func restartsAndPlainKillsStopNothing() {
        let stopped = StoppedProcesses.replaying([killed("web", seq: 1, control: .restart), killed("side", seq: 1, control: nil)])
        #expect(stopped.names.isEmpty)
    }

    @Test func decisionsStopAndStartBetweenRuns() {
        var stopped = StoppedProcesses.replaying([decision(.stop, "web"), decision(.stop, "side")])
        #expect(stopped.names == ["web", "side"])
        stopped.apply(decision(.start, "web"))
        #expect(stopped.names == ["side"])
        // A start after a run ended by stop lets it run again; unknown actions change nothing.
        let again = StoppedProcesses.replaying([killed("web", seq: 1, control: .stop), decision(.start, "web"), decision(nil, "side")])
        #expect(again.names.isEmpty)
    }

    @Test func anAuroraStreamHasNoStoppedProcesses() throws {
        let stream = try CheckpointReader.read(path: TaskPath.runnerCheckpoint(root: TestPaths.auroraRoot, taskID: "hello_world"))
        #expect(StoppedProcesses.replaying(stream.entries.map(\.record)).names.isEmpty)
    }
}
