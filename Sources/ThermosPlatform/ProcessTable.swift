import Glibc

/// One process as `/proc/<pid>/stat` and `/proc/<pid>/status` describe it.
public struct ProcessEntry: Sendable, Hashable {
    public var pid: Int32
    public var parentPid: Int32
    public var processGroup: Int32
    public var session: Int32
    /// One-letter state (`R`, `S`, `Z`, …).
    public var state: Character
    /// Start time in seconds since the epoch.
    public var startTime: Double
    /// Real uid, when `/proc/<pid>/status` could be read.
    public var uid: Int32?
    /// Start time in clock ticks after boot (with the pid, identifies a process across pid reuse).
    public var startTicks: UInt64
    /// Clock ticks spent in user and kernel mode.
    public var userTicks: UInt64
    public var systemTicks: UInt64
    public var nice: Int
    public var threads: Int
    /// Virtual size in bytes.
    public var virtualBytes: Int64
    /// Resident pages.
    public var residentPages: Int64

    public init(
        pid: Int32, parentPid: Int32, processGroup: Int32, session: Int32, state: Character, startTime: Double, uid: Int32? = nil,
        startTicks: UInt64 = 0, userTicks: UInt64 = 0, systemTicks: UInt64 = 0, nice: Int = 0, threads: Int = 1,
        virtualBytes: Int64 = 0, residentPages: Int64 = 0
    ) {
        self.pid = pid
        self.parentPid = parentPid
        self.processGroup = processGroup
        self.session = session
        self.state = state
        self.startTime = startTime
        self.uid = uid
        self.startTicks = startTicks
        self.userTicks = userTicks
        self.systemTicks = systemTicks
        self.nice = nice
        self.threads = threads
        self.virtualBytes = virtualBytes
        self.residentPages = residentPages
    }

    /// User CPU seconds.
    public var userSeconds: Double { Double(userTicks) / ProcessTable.ticksPerSecond }
    /// System CPU seconds.
    public var systemSeconds: Double { Double(systemTicks) / ProcessTable.ticksPerSecond }
    /// Resident set size in bytes.
    public var residentBytes: Int64 { residentPages * ProcessTable.pageSize }

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

/// Reads the process table from `/proc` (no shelling out, no psutil): the one `/proc/<pid>/stat`
/// parser of the runner, the coordinator tooling and the tests.
public enum ProcessTable {
    /// Clock ticks per second for `/proc` times.
    public static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    /// Page size in bytes (resident pages to bytes).
    public static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Boot time in seconds since the epoch (`btime` of `/proc/stat`).
    public static let bootTime: Double = {
        guard let text = readSmallFile("/proc/stat") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingPrefix(" ")) ?? 0
        }
        return 0
    }()

    /// The entry of `pid`, or nil if it does not exist (or is a zombie, when `includeZombies` is false).
    public static func entry(_ pid: Int32, includeZombies: Bool = false) -> ProcessEntry? {
        guard pid > 0, let stat = readSmallFile("/proc/\(pid)/stat"), var entry = parseStat(stat) else { return nil }
        if entry.state == "Z" && !includeZombies { return nil }
        entry.uid = readUid(pid)
        return entry
    }

    /// Every process of the machine, by pid (zombies excluded unless `includeZombies`): one
    /// `/proc/<pid>/stat` read per process into a reused buffer; processes that vanish meanwhile
    /// are skipped.
    public static func snapshot(includeZombies: Bool = false) -> [Int32: ProcessEntry] {
        var result: [Int32: ProcessEntry] = [:]
        guard let directory = opendir("/proc") else { return result }
        defer { closedir(directory) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        while let item = readdir(directory) {
            let pid: Int32? = withUnsafeBytes(of: item.pointee.d_name) { raw in
                let name = raw.prefix(while: { $0 != 0 })
                guard let first = name.first, first >= 0x30, first <= 0x39 else { return nil }
                return Int32(String(decoding: name, as: UTF8.self))
            }
            guard let pid, let stat = readStat(pid, buffer: &buffer), let entry = parseStat(stat),
                includeZombies || entry.state != "Z"
            else { continue }
            result[pid] = entry
        }
        return result
    }

    /// `/proc/<pid>/stat` in one `read` (a stat line is far below the buffer's 2 KiB).
    static func readStat(_ pid: Int32, buffer: inout [UInt8]) -> String? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        } while count < 0 && errno == EINTR
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Every descendant of `pid` in `snapshot` (children, their children, …).
    public static func descendants(of pid: Int32, in snapshot: [Int32: ProcessEntry]) -> Set<Int32> {
        var children: [Int32: [Int32]] = [:]
        for entry in snapshot.values { children[entry.parentPid, default: []].append(entry.pid) }
        var result = Set<Int32>()
        var frontier = [pid]
        while let next = frontier.popLast() {
            for child in children[next] ?? [] where result.insert(child).inserted {
                frontier.append(child)
            }
        }
        return result
    }

    /// Parses `/proc/<pid>/stat` (the command name may hold spaces and parentheses, so fields are
    /// counted from the last `)`); nil if the line is not one.
    public static func parseStat(_ text: String) -> ProcessEntry? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        guard let pid = Int32(text[..<open].trimmingCharacters(in: " ")) else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 of proc(5) (state); field N is fields[N - 3].
        guard fields.count >= 22, let state = fields[0].first else { return nil }
        func number<T: FixedWidthInteger>(_ field: Int) -> T? { T(fields[field - 3]) }
        guard let parent: Int32 = number(4), let group: Int32 = number(5), let session: Int32 = number(6),
            let user: UInt64 = number(14), let system: UInt64 = number(15), let nice: Int = number(19),
            let threads: Int = number(20), let start: UInt64 = number(22), let vsize: Int64 = number(23),
            let rss: Int64 = number(24)
        else { return nil }
        return ProcessEntry(
            pid: pid, parentPid: parent, processGroup: group, session: session, state: state,
            startTime: bootTime + Double(start) / ticksPerSecond, uid: nil, startTicks: start, userTicks: user,
            systemTicks: system, nice: nice, threads: threads, virtualBytes: vsize, residentPages: rss)
    }

    public static func readUid(_ pid: Int32) -> Int32? {
        guard let status = readSmallFile("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
            return line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { Int32($0) }
        }
        return nil
    }

    /// Reads a small file (procfs) in one go; nil if it cannot be opened.
    static func readSmallFile(_ path: String) -> String? {
        Files.text(of: path)
    }

    /// True if `pid` exists and is not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        entry(pid) != nil
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        String(self.drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
