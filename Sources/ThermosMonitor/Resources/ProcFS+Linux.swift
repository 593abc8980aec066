import Glibc

/// One `/proc/<pid>/stat` line, decoded.
public struct ProcStat: Sendable, Hashable {
    public var pid: Int32
    public var parent: Int32
    /// The one-letter state (`R`, `S`, `D`, `Z`, `T`, …).
    public var state: Character
    /// Clock ticks in user and kernel mode.
    public var userTicks: UInt64
    public var systemTicks: UInt64
    public var nice: Int
    public var threads: Int
    /// Start time in clock ticks after boot (with the pid, identifies a process across pid reuse).
    public var startTicks: UInt64
    /// Virtual size in bytes.
    public var virtualBytes: Int64
    /// Resident pages.
    public var residentPages: Int64

    /// Parses a `stat` line; nil if it is not one. The command name may contain spaces and
    /// parentheses, so fields are counted from the last `)`.
    public init?(line: String) {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"),
              let pid = Int32(line[..<open].trimmingSpaces)
        else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 of proc(5) (state); field n is fields[n - 3].
        guard fields.count >= 22, let state = fields[0].first else { return nil }
        func number<T: FixedWidthInteger>(_ field: Int) -> T? { T(fields[field - 3]) }
        guard let parent: Int32 = number(4), let user: UInt64 = number(14), let system: UInt64 = number(15),
              let nice: Int = number(19), let threads: Int = number(20), let start: UInt64 = number(22),
              let vsize: Int64 = number(23), let rss: Int64 = number(24)
        else { return nil }
        self.pid = pid
        self.parent = parent
        self.state = state
        self.userTicks = user
        self.systemTicks = system
        self.nice = nice
        self.threads = threads
        self.startTicks = start
        self.virtualBytes = vsize
        self.residentPages = rss
    }

    /// psutil's status name for the state letter.
    public var statusName: String {
        switch state {
        case "R": "running"
        case "S": "sleeping"
        case "D": "disk-sleep"
        case "Z": "zombie"
        case "T": "stopped"
        case "t": "tracing-stop"
        case "X", "x": "dead"
        case "I": "idle"
        case "W": "waking"
        case "P": "parked"
        case "K": "wake-kill"
        default: String(state)
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// Every process of the machine at one instant, read from `/proc` with plain `open`/`read`
/// (no shelling out). One snapshot serves every process tree sampled in a round.
public struct ProcSnapshot: Sendable {
    /// Seconds since the epoch when the snapshot was taken.
    public var timestamp: Double
    public var processes: [Int32: ProcStat]
    /// Children of each pid.
    public var children: [Int32: [Int32]]

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
    public static let ticksPerSecond: Double = Double(sysconf(Int32(_SC_CLK_TCK)))
    /// Page size in bytes.
    public static let pageSize: Int64 = Int64(sysconf(Int32(_SC_PAGESIZE)))

    public init(timestamp: Double, processes: [Int32: ProcStat]) {
        self.timestamp = timestamp
        self.processes = processes
        var children: [Int32: [Int32]] = [:]
        for stat in processes.values { children[stat.parent, default: []].append(stat.pid) }
        self.children = children
    }

    /// Reads every `/proc/<pid>/stat` (processes that vanish meanwhile are skipped).
    public static func take(procRoot: String = "/proc") -> ProcSnapshot {
        var processes: [Int32: ProcStat] = [:]
        if let directory = opendir(procRoot) {
            defer { closedir(directory) }
            var buffer = [UInt8](repeating: 0, count: 2048)
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard let first = name.utf8.first, first >= 48, first <= 57 else { continue }
                guard let line = readSmallFile("\(procRoot)/\(name)/stat", buffer: &buffer),
                      let stat = ProcStat(line: line)
                else { continue }
                processes[stat.pid] = stat
            }
        }
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

    static func readSmallFile(_ path: String, buffer: inout [UInt8]) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

/// Seconds since the epoch, from `CLOCK_REALTIME`.
public func wallClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
