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

    public init(
        pid: Int32, parentPid: Int32, processGroup: Int32, session: Int32, state: Character, startTime: Double, uid: Int32? = nil
    ) {
        self.pid = pid
        self.parentPid = parentPid
        self.processGroup = processGroup
        self.session = session
        self.state = state
        self.startTime = startTime
        self.uid = uid
    }
}

/// Reads the process table from `/proc` (no shelling out, no psutil): the one `/proc/<pid>/stat`
/// parser of the runner, the coordinator tooling and the tests.
public enum ProcessTable {
    /// Clock ticks per second for `/proc` times.
    public static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

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

    /// Every process of the machine (zombies excluded), by pid.
    public static func snapshot() -> [Int32: ProcessEntry] {
        var result: [Int32: ProcessEntry] = [:]
        guard let directory = opendir("/proc") else { return result }
        defer { closedir(directory) }
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = Int32(name), let stat = readSmallFile("/proc/\(pid)/stat"), let entry = parseStat(stat),
                entry.state != "Z"
            else { continue }
            result[pid] = entry
        }
        return result
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

    /// Parses `/proc/<pid>/stat` (the command name may hold spaces and parentheses).
    public static func parseStat(_ text: String) -> ProcessEntry? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        guard let pid = Int32(text[..<open].trimmingCharacters(in: " ")) else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field N is fields[N - 3].
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]), let group = Int32(fields[2]),
            let session = Int32(fields[3]), let ticks = Double(fields[19])
        else { return nil }
        return ProcessEntry(
            pid: pid, parentPid: parent, processGroup: group, session: session, state: state,
            startTime: bootTime + ticks / ticksPerSecond, uid: nil)
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
