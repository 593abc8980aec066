import Glibc
import Testing
import ThermosCheckpoint
import OrderedCollections
import ThermosTestSupport
@testable import ThermosMonitor

/// The incremental TaskMonitor: reads only new records, waits out torn tails, survives corruption.
@Suite struct TaskMonitorTests {
    let records = TaskRootBuilder.records(
        taskID: "t", sandbox: "/s", logDir: "/s/.logs", processes: [.init("p", .success, returnCode: 0)], finalState: .success)

    func append(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func framed(_ records: [RunnerCkpt]) throws -> [UInt8] {
        try records.flatMap { try RecordFraming.frame($0.thriftPayload()) }
    }

    @Test func readsIncrementallyFromItsOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let monitor = TaskMonitor(root: directory.path, taskID: "t")
        #expect(monitor.refresh() == 0)  // no file yet: not an error
        TaskRootBuilder(root: directory.path).makeDirectories(directory.path + "/checkpoints/t")
        let bytes = try framed(records)
        let firstPart = try framed(Array(records.prefix(3)))
        append(monitor.checkpointPath, firstPart)
        #expect(monitor.refresh() == 3)
        #expect(monitor.offset == firstPart.count)
        #expect(monitor.taskState == .active)
        #expect(monitor.refresh() == 0)
        // A torn record is left for later.
        let rest = Array(bytes[firstPart.count...])
        append(monitor.checkpointPath, Array(rest.prefix(5)))
        #expect(monitor.refresh() == 0)
        #expect(monitor.offset == firstPart.count)
        append(monitor.checkpointPath, Array(rest.dropFirst(5)))
        #expect(monitor.refresh() == records.count - 3)
        #expect(monitor.state == (try CheckpointDispatcher.replay(records)))
        #expect(monitor.taskState == .success)
        #expect(monitor.corruption == nil)
        #expect(monitor.recordsRead == records.count)
    }

    @Test func activeProcessesAreTheRunningLastRuns() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try TaskRootBuilder(root: directory.path).addSimpleTask(
            "t", directory: .active, processes: [.init("done", .success, returnCode: 0), .init("live", .running, pid: 77)], finalState: nil)
        let monitor = TaskMonitor(root: directory.path, taskID: "t")
        monitor.refresh()
        #expect(monitor.activeProcesses.map { $0.status.process } == ["live"])
        #expect(monitor.activeProcesses.first?.run == 0)
        #expect(monitor.isActive && !monitor.isFinished)
    }

    @Test func corruptStreamIsMarkedAndTheGoodStateKept() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        TaskRootBuilder(root: directory.path).makeDirectories(directory.path + "/checkpoints/t")
        let monitor = TaskMonitor(root: directory.path, taskID: "t")
        // Two good records and a complete record whose payload is not Thrift, in one batch.
        append(monitor.checkpointPath, try framed(Array(records.prefix(2))) + RecordFraming.frame([0xFF, 0xFF, 0xFF]))
        #expect(monitor.refresh() == 2)
        #expect(monitor.corruption != nil)
        #expect(monitor.state.header?.taskID == "t")
        append(monitor.checkpointPath, try framed(Array(records.dropFirst(2))))
        #expect(monitor.refresh() == 0)
        #expect(monitor.state.processes.isEmpty)
    }

    @Test func outOfSequenceRecordMarksTheStreamCorrupt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        TaskRootBuilder(root: directory.path).makeDirectories(directory.path + "/checkpoints/t")
        let monitor = TaskMonitor(root: directory.path, taskID: "t")
        var bad = Array(records.prefix(3))
        bad.append(.processStatus(ProcessStatus(seq: 7, process: "p", state: .forked)))
        append(monitor.checkpointPath, try framed(bad))
        #expect(monitor.refresh() == 3)
        #expect(monitor.corruption?.code == .invalidSequence)
    }

    @Test func fixtureTaskReplaysLikeTheReader() throws {
        let monitor = TaskMonitor(root: TestPaths.auroraRoot, taskID: "failure_limit")
        monitor.refresh()
        let expected = try RunnerState.replaying(path: monitor.checkpointPath).state
        #expect(monitor.state == expected)
        #expect(monitor.taskState == .failed)
    }
}
