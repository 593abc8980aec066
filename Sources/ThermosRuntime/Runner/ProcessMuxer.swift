import ThermosCheckpoint

/// Reads the coordinator streams of a task's processes and hands the runner the records it has
/// not seen (the original's `ProcessMuxer`). One stream holds every run of a process, so each
/// registration carries a watermark: records with `seq` at or below it are skipped. Offsets are
/// kept across registrations, so a stream is never re-read.
struct ProcessMuxer {
    private var tailers: [String: CheckpointTailer] = [:]
    private var watermarks: [String: Int64] = [:]
    /// Registered processes in registration order (select returns streams in this order).
    private var order: [String] = []
    /// The stream path of each registered process.
    private var paths: [String: String] = [:]
    /// Registered since the last `select`: read whatever the change notifications say.
    private var fresh: Set<String> = []
    let pathOf: (String) -> String

    init(pathOf: @escaping (String) -> String) {
        self.pathOf = pathOf
    }

    /// Starts returning records of `process` with `seq > watermark`.
    mutating func register(_ process: String, watermark: Int64) {
        if tailers[process] == nil { tailers[process] = CheckpointTailer(path: pathOf(process)) }
        watermarks[process] = watermark
        paths[process] = pathOf(process)
        fresh.insert(process)
        if !order.contains(process) { order.append(process) }
    }

    mutating func unregister(_ process: String) {
        watermarks[process] = nil
        fresh.remove(process)
        order.removeAll { $0 == process }
    }

    var registered: [String] { order }

    /// Every complete unread record above the watermarks, stream by stream.
    /// - Parameter changed: the stream paths written since the last call (from change
    ///   notifications), or nil to read every stream. Streams registered since the last call are
    ///   read either way (they may hold records written before they were watched).
    mutating func select(changed: Set<String>? = nil) throws(CheckpointError) -> [ProcessStatus] {
        var result: [ProcessStatus] = []
        let readNow = fresh
        fresh = []
        for process in order {
            if let changed, !readNow.contains(process), let path = paths[process], !changed.contains(path) { continue }
            guard var tailer = tailers[process], let watermark = watermarks[process] else { continue }
            let records = try tailer.poll()
            tailers[process] = tailer
            for case .processStatus(let status) in records where (status.seq ?? -1) > watermark {
                result.append(status)
            }
        }
        return result
    }

    /// True if `process`'s stream holds a complete unread record above its watermark.
    func hasData(_ process: String) -> Bool {
        guard var copy = tailers[process], let watermark = watermarks[process] else { return false }
        let records = (try? copy.poll()) ?? []
        return records.contains { record in
            if case .processStatus(let status) = record { return (status.seq ?? -1) > watermark }
            return false
        }
    }
}
