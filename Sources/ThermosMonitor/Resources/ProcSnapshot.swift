public import ThermosPlatform

/// Every process of the machine at one instant (zombies included, as psutil lists them), read
/// by ThermosPlatform's `ProcessTable` — the one `/proc` parser. One snapshot serves every
/// process tree sampled in a round.
public struct ProcSnapshot: Sendable {
    /// Seconds since the epoch when the snapshot was taken.
    public var timestamp: Double
    public var processes: [Int32: ProcessEntry]
    /// Children of each pid.
    public var children: [Int32: [Int32]]

    public init(timestamp: Double, processes: [Int32: ProcessEntry]) {
        self.timestamp = timestamp
        self.processes = processes
        var children: [Int32: [Int32]] = [:]
        for entry in processes.values { children[entry.parentPid, default: []].append(entry.pid) }
        self.children = children
    }

    /// Reads the whole process table now.
    public static func take() -> ProcSnapshot {
        let processes = ProcessTable.snapshot(includeZombies: true)
        return ProcSnapshot(timestamp: wallClock(), processes: processes)
    }

    /// `pid` and all its descendants present in the snapshot (pid first, then breadth first).
    public func tree(of pid: Int32) -> [Int32] {
        guard processes[pid] != nil else { return [] }
        var result: [Int32] = [pid]
        var seen: Set<Int32> = [pid]
        var index = 0
        while index < result.count {
            for child in children[result[index]] ?? [] where seen.insert(child).inserted {
                result.append(child)
            }
            index += 1
        }
        return result
    }
}

/// Seconds since the epoch, from `CLOCK_REALTIME`.
public func wallClock() -> Double {
    SystemWallClock().now()
}
