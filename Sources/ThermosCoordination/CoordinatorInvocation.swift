public import ThermosCheckpoint

/// The runner↔coordinator protocol: everything one run of `thermos-coordinator` is told, as a
/// typed value both sides share. The runner turns it into `arguments`; the coordinator parses
/// them back with `init(arguments:)`. Anything unknown, missing or malformed is an error, never a
/// silent default (a runner and a coordinator of different versions must not half-agree).
public struct CoordinatorInvocation: Sendable, Hashable {
    /// Where the command's stdout/stderr go.
    public enum Destination: String, Sendable, Hashable, CaseIterable {
        case file, console, both, none
    }

    /// How log files are written.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case standard, rotate
    }

    /// The run's coordinator stream; handed over open, locked and in append mode as fd 3.
    public var checkpoint: String
    /// The socket on which the go-ahead (one byte, or EOF) arrives once FORKED is written.
    public var handshakeFD: Int32 = 4
    public var process: String
    /// `seq` of the FORKED record; RUNNING is `seq + 1`, the end `seq + 2`.
    public var seq: Int64
    /// The FORKED record's `fork_time` (the coordinator checks its record exactly).
    public var forkTime: Double
    public var cmdline: String
    /// The sandbox (cwd of the command; the chroot with `chroot`). Empty: `/`.
    public var sandbox: String
    /// `<log_dir>/<process>/<run>`.
    public var logDirectory: String
    /// Run as this user (root required when it is not the runner's); nil: as the runner.
    public var user: String?
    public var chroot = false
    public var preserveEnvironment = false
    public var destination: Destination = .file
    public var mode: Mode = .standard
    /// Rotation size in bytes and backups kept (`rotate` mode; at least 1 each).
    public var rotateSize: Int64 = 100 * 1024 * 1024
    public var rotateBackups = 5
    public var fsync: SyncPolicy = .always
    /// The runner's user name and home, so a run as the runner's own user needs no passwd lookup.
    public var runnerUser: String?
    public var runnerHome: String?
    /// Our extension: `KEY=value` set last, over the scrubbed environment and `BASH_ENV`.
    public var environment: [(key: String, value: String)] = []
    /// Our extension: the command's directory relative to the sandbox, opened beneath it.
    public var cwd: String?

    public init(
        checkpoint: String, process: String, seq: Int64, forkTime: Double, cmdline: String, sandbox: String,
        logDirectory: String
    ) {
        self.checkpoint = checkpoint
        self.process = process
        self.seq = seq
        self.forkTime = forkTime
        self.cmdline = cmdline
        self.sandbox = sandbox
        self.logDirectory = logDirectory
    }

    /// Why a command line is not a valid invocation.
    public typealias Error = InvocationFlags.Error

    /// The command line after the binary path.
    public var arguments: [String] {
        var arguments = [
            "--checkpoint", checkpoint, "--handshake-fd", String(handshakeFD), "--process", process, "--seq", String(seq),
            "--fork-time", String(forkTime), "--cmdline", cmdline, "--sandbox", sandbox, "--log-dir", logDirectory,
            "--logger-destination", destination.rawValue, "--logger-mode", mode.rawValue,
            "--rotate-size", String(rotateSize), "--rotate-backups", String(rotateBackups), "--fsync", fsync.rawValue,
        ]
        if let user { arguments += ["--user", user] }
        if let runnerUser { arguments += ["--runner-user", runnerUser] }
        if let runnerHome { arguments += ["--runner-home", runnerHome] }
        if let cwd { arguments += ["--cwd", cwd] }
        for (key, value) in environment { arguments += ["--env", "\(key)=\(value)"] }
        if chroot { arguments.append("--chroot") }
        if preserveEnvironment { arguments.append("--preserve-env") }
        return arguments
    }

    /// Parses `arguments` (after the binary path).
    /// - Throws: `CoordinatorInvocation.Error` naming the flag at fault.
    public init(arguments: [String]) throws(CoordinatorInvocation.Error) {
        let flags = try InvocationFlags(arguments, booleans: ["--chroot", "--preserve-env"], values: Self.valueFlags, repeated: ["--env"])
        for entry in flags.all("--env") {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else { throw Error("--env needs KEY=value") }
            environment.append((String(entry[..<equals]), String(entry[entry.index(after: equals)...])))
        }
        checkpoint = try flags.required("--checkpoint")
        process = try flags.required("--process")
        logDirectory = try flags.required("--log-dir")
        cmdline = try flags.required("--cmdline")
        sandbox = try flags.required("--sandbox")
        guard let seq = try flags.parsed("--seq", { Int64($0) }), seq >= 0 else { throw Error("--seq needs a number >= 0") }
        self.seq = seq
        guard let forkTime = try flags.parsed("--fork-time", { Double($0) }), forkTime.isFinite else {
            throw Error("--fork-time needs a time in seconds")
        }
        self.forkTime = forkTime
        if let fd = try flags.parsed("--handshake-fd", { Int32($0) }) {
            guard fd >= 0 else { throw Error("invalid value \"\(fd)\" for --handshake-fd") }
            handshakeFD = fd
        }
        user = flags.value("--user")
        runnerUser = flags.value("--runner-user")
        runnerHome = flags.value("--runner-home")
        cwd = flags.value("--cwd")
        chroot = flags.contains("--chroot")
        preserveEnvironment = flags.contains("--preserve-env")
        if let value = try flags.parsed("--logger-destination", { Destination(rawValue: $0) }) { destination = value }
        if let value = try flags.parsed("--logger-mode", { Mode(rawValue: $0) }) { mode = value }
        if let value = try flags.parsed("--rotate-size", { Int64($0) }) { rotateSize = value }
        if let value = try flags.parsed("--rotate-backups", { Int($0) }) { rotateBackups = value }
        if let value = try flags.parsed("--fsync", { SyncPolicy(rawValue: $0) }) { fsync = value }
        if mode == .rotate {
            if rotateSize < 1 { throw Error("Log size cannot be less than one byte.") }
            if rotateBackups < 1 { throw Error("Log backups cannot be less than one.") }
        }
        if process.isEmpty || checkpoint.isEmpty || logDirectory.isEmpty {
            throw Error("--checkpoint, --process and --log-dir must not be empty")
        }
    }

    public static func == (lhs: CoordinatorInvocation, rhs: CoordinatorInvocation) -> Bool {
        lhs.arguments == rhs.arguments
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(arguments)
    }

    static let valueFlags: Set<String> = [
        "--checkpoint", "--handshake-fd", "--process", "--seq", "--fork-time", "--cmdline", "--sandbox", "--log-dir",
        "--user", "--logger-destination", "--logger-mode", "--rotate-size", "--rotate-backups", "--fsync",
        "--runner-user", "--runner-home", "--cwd",
    ]
}
