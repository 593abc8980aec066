public import ThermosPlatform

/// Samples a process and all its descendants (the original's `ProcessTreeCollector`): sums the
/// numbers over the tree; the CPU rate is Δ(user+system) over the current pids, against each
/// pid's previous value (0 for a pid seen for the first time), divided by the wall time since
/// the previous sample (0 on the first sample).
public struct ProcessTreeCollector: Sendable {
    /// The root of the tree.
    public let pid: Int32
    /// CPU seconds of each pid at the previous sample, keyed by pid and start time so a reused
    /// pid counts as new.
    private var previous: [PidKey: Double] = [:]
    private var previousTimestamp: Double?
    /// The last sample (rate included); `.empty` before the first one.
    public private(set) var value: ProcessSample = .empty
    /// Number of pids in the last sample.
    public private(set) var processCount = 0

    private struct PidKey: Hashable, Sendable {
        var pid: Int32
        var start: UInt64
    }

    public init(pid: Int32) {
        self.pid = pid
    }

    /// Samples the tree from `snapshot` and returns the sum. A root that is gone gives `.empty`.
    @discardableResult
    public mutating func sample(_ snapshot: ProcSnapshot) -> ProcessSample {
        let pids = snapshot.tree(of: pid)
        var total = ProcessSample.empty
        var current: [PidKey: Double] = [:]
        var delta = 0.0
        for pid in pids {
            guard let stat = snapshot.processes[pid] else { continue }
            let sample = Self.sample(of: stat)
            total = total + sample
            let key = PidKey(pid: pid, start: stat.startTicks)
            let cpu = sample.user + sample.system
            current[key] = cpu
            delta += cpu - (previous[key] ?? 0)
        }
        if let previousTimestamp, snapshot.timestamp > previousTimestamp {
            total.rate = max(0, delta / (snapshot.timestamp - previousTimestamp))
        } else {
            total.rate = 0
        }
        previous = current
        previousTimestamp = snapshot.timestamp
        processCount = pids.count
        value = total
        return total
    }

    /// One process's numbers (rate 0: a rate needs two samples).
    public static func sample(of entry: ProcessEntry) -> ProcessSample {
        ProcessSample(
            rate: 0, user: entry.userSeconds, system: entry.systemSeconds, rss: entry.residentBytes,
            vms: entry.virtualBytes, nice: entry.nice, status: entry.statusName, threads: entry.threads)
    }
}
