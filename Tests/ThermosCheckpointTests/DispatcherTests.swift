import OrderedCollections
import Testing
import ThermosCheckpoint

/// Replay rules of the original `CheckpointDispatcher` (reference §1.4), with our FAILED fix.
@Suite struct DispatcherTests {
    func status(_ seq: Int64, _ state: ProcessState, process: String = "p") -> ProcessStatus {
        switch state {
        case .forked: ProcessStatus(seq: seq, process: process, state: state, coordinatorPid: 10, forkTime: 1)
        case .running: ProcessStatus(seq: seq, process: process, state: state, startTime: 2, pid: 11)
        case .success, .killed: ProcessStatus(seq: seq, process: process, state: state, stopTime: 3, returnCode: state == .killed ? -9 : 0)
        case .failed: ProcessStatus(seq: seq, process: process, state: state, stopTime: 3, returnCode: 1)
        default: ProcessStatus(seq: seq, process: process, state: state)
        }
    }

    func replay(_ states: [ProcessState]) throws(CheckpointError) -> RunnerState {
        try CheckpointDispatcher.replay(states.enumerated().map { .processStatus(status(Int64($0.offset), $0.element)) })
    }

    @Test(arguments: [
        ([ProcessState.waiting, .forked, .running, .success], ProcessState.success),
        ([.waiting, .forked, .running, .failed], .failed),
        ([.waiting, .failed], .failed),
        ([.waiting, .forked, .killed], .killed),
        ([.waiting, .forked, .running, .killed], .killed),
        ([.waiting, .forked, .lost], .lost),
        ([.waiting, .forked, .running, .lost], .lost),
    ])
    func allowedTransitions(_ states: [ProcessState], _ final: ProcessState) throws {
        let state = try replay(states)
        #expect(state.processes["p"]?.last?.state == final)
        #expect(state.processes["p"]?.last?.seq == Int64(states.count - 1))
    }

    @Test(arguments: [
        [ProcessState.waiting, .running],
        [.waiting, .success],
        [.waiting, .killed],
        [.waiting, .lost],
        [.waiting, .forked, .success],
        [.waiting, .forked, .failed],
        [.waiting, .forked, .forked],
        [.waiting, .forked, .running, .running],
        [.waiting, .waiting],
    ])
    func forbiddenTransitionsAreTypedErrors(_ states: [ProcessState]) {
        do {
            _ = try replay(states)
            Issue.record("\(states) replayed without error")
        } catch {
            #expect(error.code == .invalidState)
            #expect(error.message.contains("Detected invalid state transition"))
        }
    }

    @Test func failedRunsKeepReturnCodeAndStopTime() throws {
        let state = try replay([.waiting, .forked, .running, .failed])
        let run = try #require(state.processes["p"]?.last)
        #expect(run.returnCode == 1)
        #expect(run.stopTime == 3)
        #expect(run.pid == 11 && run.coordinatorPid == 10 && run.startTime == 2 && run.forkTime == 1)
    }

    @Test func missingRequiredFieldsAreReported() {
        let records: [RunnerCkpt] = [
            .processStatus(ProcessStatus(seq: 0, process: "p", state: .waiting)),
            .processStatus(ProcessStatus(seq: 1, process: "p", state: .forked, forkTime: 1)),
        ]
        #expect {
            try CheckpointDispatcher.replay(records)
        } throws: { error in
            (error as? CheckpointError)?.message.contains("Missing field coordinator_pid") == true
        }
    }

    @Test func runsAccumulateAndSeqContinuesAcrossRuns() throws {
        let state = try replay([.waiting, .forked, .running, .failed, .waiting, .forked, .running, .success])
        let runs = try #require(state.processes["p"])
        #expect(runs.map(\.state) == [.failed, .success])
        #expect(runs.map(\.seq) == [3, 7])
    }

    @Test func outOfOrderUpdateThrowsUnlessRecovering() throws {
        var records: [RunnerCkpt] = [.processStatus(status(0, .waiting)), .processStatus(status(1, .forked))]
        records.append(.processStatus(status(1, .forked)))  // replayed duplicate
        records.append(.processStatus(status(2, .running)))
        #expect {
            try CheckpointDispatcher.replay(records)
        } throws: { error in
            (error as? CheckpointError)?.code == .invalidSequence
        }
        let recovered = try CheckpointDispatcher.replay(records, recovery: true)
        #expect(recovered.processes["p"]?.last?.state == .running)
    }

    @Test func unknownProcessMustStartWithWaiting() {
        #expect {
            try CheckpointDispatcher.replay([.processStatus(status(1, .forked))])
        } throws: { error in
            (error as? CheckpointError)?.message.hasPrefix("Encountered potentially out of order process update.") == true
        }
    }

    @Test func headerBindsOnce() {
        let header = RunnerCkpt.runnerHeader(RunnerHeader(taskID: "t"))
        #expect {
            try CheckpointDispatcher.replay([header, header])
        } throws: { error in
            (error as? CheckpointError)?.message == "Attempting to rebind task with different parameters!"
        }
    }

    @Test func taskStatusesAreNotValidatedAndTruncateReplaces() throws {
        var state = RunnerState()
        let dispatcher = CheckpointDispatcher()
        for taskState in [TaskState.success, .active, .unknown(9), .killed] {
            try dispatcher.dispatch(&state, .taskStatus(TaskStatus(state: taskState)))
        }
        #expect(state.statuses.map(\.state) == [.success, .active, .unknown(9), .killed])
        try dispatcher.dispatch(&state, .taskStatus(TaskStatus(state: .lost)), truncate: true)
        #expect(state.statuses.map(\.state) == [.lost])
    }

    @Test func wouldUpdateComparesSeq() throws {
        let state = try replay([.waiting, .forked])
        #expect(CheckpointDispatcher.wouldUpdate(state, .processStatus(status(2, .running))))
        #expect(!CheckpointDispatcher.wouldUpdate(state, .processStatus(status(1, .forked))))
        #expect(CheckpointDispatcher.wouldUpdate(state, .processStatus(status(0, .waiting, process: "other"))))
        #expect(!CheckpointDispatcher.wouldUpdate(state, .taskStatus(TaskStatus(state: .active))))
    }

    final class Recorder: UniversalStateHandler, ProcessStateHandler, TaskStateHandler {
        var events: [String] = []
        let name: String
        init(_ name: String) { self.name = name }
        func onInitialization(_ header: RunnerHeader) throws { events.append("\(name).init") }
        func onTaskTransition(_ state: TaskState?, _ status: TaskStatus) throws { events.append("\(name).task(\(state?.name ?? "-"))") }
        func onProcessTransition(_ state: ProcessState, _ status: ProcessStatus) throws { events.append("\(name).process(\(state))") }
        func onWaiting(_ status: ProcessStatus) throws { events.append("\(name).onWaiting") }
        func onForked(_ status: ProcessStatus) throws { events.append("\(name).onForked") }
        func onCleaning(_ status: TaskStatus) throws { events.append("\(name).onCleaning") }
    }

    final class ProcessOnly: ProcessStateHandler {
        var events: [String] = []
        func onWaiting(_ status: ProcessStatus) throws { events.append("onWaiting") }
    }

    final class NotAHandler {}

    @Test func handlersAreCalledUniversalFirstInRegistrationOrder() throws {
        let first = Recorder("a")
        let second = Recorder("b")
        let processOnly = ProcessOnly()
        var dispatcher = CheckpointDispatcher()
        try dispatcher.register(first)
        try dispatcher.register(processOnly)
        try dispatcher.register(second)
        #expect(throws: CheckpointError.self) { try dispatcher.register(NotAHandler()) }
        var state = RunnerState()
        try dispatcher.dispatch(&state, .runnerHeader(RunnerHeader(taskID: "t")))
        try dispatcher.dispatch(&state, .processStatus(status(0, .waiting)))
        try dispatcher.dispatch(&state, .taskStatus(TaskStatus(state: .cleaning)))
        #expect(first.events == ["a.init", "a.process(WAITING)", "a.onWaiting", "a.task(CLEANING)", "a.onCleaning"])
        #expect(second.events == ["b.init", "b.process(WAITING)", "b.onWaiting", "b.task(CLEANING)", "b.onCleaning"])
        #expect(processOnly.events == ["onWaiting"])
        // Out-of-order update in recovery mode: skipped, no handler called.
        let outcome = try dispatcher.dispatch(&state, .processStatus(status(5, .forked)), recovery: true)
        #expect(outcome == .skipped)
        #expect(first.events.count == 5)
    }
}
