import Glibc
import Synchronization
public import ThermosCheckpoint

/// Follows one task's runner checkpoint incrementally (the original's `TaskMonitor`): keeps the
/// byte offset, reads only records completed since the last `refresh()`, and replays them into
/// a private `RunnerState`. A torn last record is left for the next refresh (the runner may
/// still be writing it). A corrupt stream (undecodable record, broken sequence) is marked and
/// no longer read; the state as of the last good record keeps being served.
public final class TaskMonitor: Sendable {
    public let root: String
    public let taskID: String
    /// `<root>/checkpoints/<taskID>/runner`.
    public let checkpointPath: String

    private struct Tail {
        var tailer: CheckpointTailer
        var state = RunnerState()
        var stopped = StoppedProcesses()
        var corruption: CheckpointError?
        var recordsRead = 0
    }

    private let tail: Mutex<Tail>

    public init(root: String, taskID: String) {
        self.root = root
        self.taskID = taskID
        checkpointPath = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        tail = Mutex(Tail(tailer: CheckpointTailer(path: checkpointPath)))
    }

    /// Reads and applies the records completed since the last call. A missing file is not an
    /// error (the runner may not have created it yet). Returns the number of records applied.
    @discardableResult
    public func refresh() -> Int {
        tail.withLock { tail in
            guard tail.corruption == nil else { return 0 }
            let start = tail.tailer.offset
            var records: [RunnerCkpt]
            do {
                records = try tail.tailer.poll()
            } catch {
                // The tailer stops at the bad record; the good ones before it in this batch
                // are decoded again from the bytes it consumed.
                records = (try? CheckpointReader.decode(
                    Self.bytes(of: checkpointPath, from: start, to: tail.tailer.offset), path: checkpointPath
                ).records) ?? []
                tail.corruption = (error as? CheckpointError) ?? CheckpointError(.io, "\(error)", path: checkpointPath)
            }
            let dispatcher = CheckpointDispatcher()
            var applied = 0
            for record in records {
                do {
                    try dispatcher.dispatch(&tail.state, record)
                    tail.stopped.apply(record)
                    applied += 1
                } catch let error as CheckpointError {
                    tail.corruption = error
                    break
                } catch {
                    tail.corruption = CheckpointError(.invalidState, "\(error)", path: checkpointPath)
                    break
                }
            }
            tail.recordsRead += applied
            return applied
        }
    }

    /// A copy of the replayed state (call `refresh()` first for the newest).
    public var state: RunnerState { tail.withLock { $0.state } }

    /// Processes kept down by `thermos stop` as of the records applied so far.
    public var stoppedProcesses: Set<String> { tail.withLock { $0.stopped.names } }

    /// Why the stream stopped being read, if it is corrupt.
    public var corruption: CheckpointError? { tail.withLock { $0.corruption } }

    /// Bytes consumed so far (the offset of the first unread byte).
    public var offset: Int { tail.withLock { $0.tailer.offset } }

    /// Records applied so far.
    public var recordsRead: Int { tail.withLock { $0.recordsRead } }

    /// The last task state, ACTIVE if none was recorded yet (`task_state()`).
    public var taskState: TaskState { state.taskState ?? .active }

    /// True while `tasks/active/<id>` exists.
    public var isActive: Bool { Self.exists(TaskPath.taskFile(root: root, taskID: taskID, state: .active)) }

    /// True once `tasks/finished/<id>` exists.
    public var isFinished: Bool { Self.exists(TaskPath.taskFile(root: root, taskID: taskID, state: .finished)) }

    /// Processes whose last run is RUNNING, with that run and its index (`get_active_processes`).
    public var activeProcesses: [(status: ProcessStatus, run: Int)] {
        state.processes.compactMap { _, runs in
            guard let last = runs.last, last.state == .running else { return nil }
            return (last, runs.count - 1)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func bytes(of path: String, from start: Int, to end: Int) -> [UInt8] {
        guard end > start else { return [] }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: end - start)
        var done = 0
        while done < buffer.count {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start + done)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            done += count
        }
        return Array(buffer.prefix(done))
    }
}
