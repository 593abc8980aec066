public import Logging
public import ThermosCheckpoint
public import ThermosConfig
public import ThermosCoordination

/// The `thermos` → `thermos-runner` protocol: everything the runner process is told besides the
/// task itself, as one typed value both sides share. `thermos run`, `simplerun` and `runner` do
/// the config work, hand the evaluated task over in a sealed memfd (`TaskHandover`) and `exec`
/// `thermos-runner` with `arguments`; the runner parses them back with `init(arguments:)`.
/// Anything unknown, missing, repeated or malformed is an error, never a silent default (a
/// `thermos` and a `thermos-runner` of different versions must not half-agree).
///
/// Adding a field: a stored property, its flag in `arguments`, its parse in `init(arguments:)`,
/// its flag in one of the flag sets, and (when the runner needs it) a line in `configuration`.
public struct RunnerInvocation: Sendable, Hashable {
    /// Which exit statuses the runner uses.
    public enum ExitCodes: String, Sendable, Hashable, CaseIterable {
        /// `thermos run`/`simplerun`: 0 SUCCESS, 1 FAILED, 3 KILLED, 4 LOST, 2 invalid input, 5 runner error.
        case run
        /// `thermos runner` (the executor's `thermos_runner`): 0 once terminal, else 101–105.
        case executor
    }

    /// The inherited descriptor of the sealed memfd holding the evaluated task's JSON.
    public var taskFD: Int32
    public var taskID: String
    /// The checkpoint root.
    public var root: String
    public var sandbox: String
    public var logDir: String
    /// The user processes run as, and its uid (written into the header).
    public var user: String
    public var uid: Int32?
    public var hostname: String
    /// Port bindings, name → port.
    public var ports: [String: Int] = [:]
    public var chroot = false
    public var preserveEnvironment = false
    public var loggerDestination: LoggerDestination?
    public var loggerMode: LoggerMode?
    public var rotateLogSizeMB: Int?
    public var rotateLogBackups: Int?
    public var fsync: SyncPolicy = .group
    /// Runs after which a process fails; nil: unlimited (`thermos runner` uses 100).
    public var runLimit: Int?
    /// When the task was launched (seconds since the epoch): header `launch_time_ms`.
    public var launchTime: Double
    public var preemptionWait: Double = 60
    /// Take over from a live runner (`--force`).
    public var force = false
    /// Print every process's output live (`run --console`, simplerun).
    public var console = false
    /// Remove the sandbox once the task ends (simplerun's temporary sandbox).
    public var removeSandboxWhenDone = false
    public var logLevel: Logger.Level = .info
    public var exitCodes: ExitCodes = .run

    public init(
        taskFD: Int32, taskID: String, root: String, sandbox: String, logDir: String, user: String, uid: Int32?,
        hostname: String, launchTime: Double
    ) {
        self.taskFD = taskFD
        self.taskID = taskID
        self.root = root
        self.sandbox = sandbox
        self.logDir = logDir
        self.user = user
        self.uid = uid
        self.hostname = hostname
        self.launchTime = launchTime
    }

    /// The invocation of a runner configuration whose task travels in `taskFD`.
    public init(configuration: RunnerConfiguration, taskFD: Int32, force: Bool, logLevel: Logger.Level, exitCodes: ExitCodes) {
        self.init(
            taskFD: taskFD, taskID: configuration.taskID, root: configuration.root, sandbox: configuration.sandbox,
            logDir: configuration.logDir, user: configuration.user, uid: configuration.uid, hostname: configuration.hostname,
            launchTime: configuration.launchTime)
        ports = configuration.ports
        chroot = configuration.chroot
        preserveEnvironment = configuration.preserveEnvironment
        loggerDestination = configuration.loggerDestination
        loggerMode = configuration.loggerMode
        rotateLogSizeMB = configuration.rotateLogSizeMB
        rotateLogBackups = configuration.rotateLogBackups
        fsync = configuration.fsync
        runLimit = configuration.totalRunLimit == .max ? nil : configuration.totalRunLimit
        preemptionWait = configuration.preemptionWait
        console = configuration.console
        removeSandboxWhenDone = configuration.removeSandboxWhenDone
        self.force = force
        self.logLevel = logLevel
        self.exitCodes = exitCodes
    }

    /// The runner configuration of `task` under this invocation.
    public func configuration(task: TaskConfig) -> RunnerConfiguration {
        var configuration = RunnerConfiguration(
            task: task, taskID: taskID, root: root, sandbox: sandbox, logDir: logDir, user: user, uid: uid, hostname: hostname,
            ports: ports, totalRunLimit: runLimit ?? .max, launchTime: launchTime)
        configuration.chroot = chroot
        configuration.preserveEnvironment = preserveEnvironment
        configuration.loggerDestination = loggerDestination
        configuration.loggerMode = loggerMode
        configuration.rotateLogSizeMB = rotateLogSizeMB
        configuration.rotateLogBackups = rotateLogBackups
        configuration.fsync = fsync
        configuration.preemptionWait = preemptionWait
        configuration.console = console
        configuration.removeSandboxWhenDone = removeSandboxWhenDone
        return configuration
    }

    /// Why a command line is not a valid invocation.
    public typealias Error = InvocationFlags.Error

    /// The command line after the binary path.
    public var arguments: [String] {
        var arguments = [
            "--task-fd", String(taskFD), "--task-id", taskID, "--root", root, "--sandbox", sandbox, "--log-dir", logDir,
            "--user", user, "--hostname", hostname, "--launch-time", String(launchTime), "--fsync", fsync.rawValue,
            "--preemption-wait", String(preemptionWait), "--log-level", logLevel.rawValue, "--exit-codes", exitCodes.rawValue,
        ]
        if let uid { arguments += ["--uid", String(uid)] }
        for (name, port) in ports.sorted(by: { $0.key < $1.key }) { arguments += ["--port", "\(name):\(port)"] }
        if let loggerDestination { arguments += ["--logger-destination", loggerDestination.rawValue] }
        if let loggerMode { arguments += ["--logger-mode", loggerMode.rawValue] }
        if let rotateLogSizeMB { arguments += ["--rotate-log-size-mb", String(rotateLogSizeMB)] }
        if let rotateLogBackups { arguments += ["--rotate-log-backups", String(rotateLogBackups)] }
        if let runLimit { arguments += ["--run-limit", String(runLimit)] }
        if chroot { arguments.append("--chroot") }
        if preserveEnvironment { arguments.append("--preserve-env") }
        if force { arguments.append("--force") }
        if console { arguments.append("--console") }
        if removeSandboxWhenDone { arguments.append("--remove-sandbox-when-done") }
        return arguments
    }

    /// Parses `arguments` (after the binary path).
    /// - Throws: `RunnerInvocation.Error` naming the flag at fault.
    public init(arguments: [String]) throws(RunnerInvocation.Error) {
        let flags = try InvocationFlags(arguments, booleans: Self.booleanFlags, values: Self.valueFlags, repeated: Self.repeatedFlags)
        guard let taskFD = try flags.parsed("--task-fd", { Int32($0) }), taskFD >= 0 else { throw Error("--task-fd needs a descriptor >= 0") }
        self.taskFD = taskFD
        taskID = try flags.required("--task-id")
        root = try flags.required("--root")
        sandbox = try flags.required("--sandbox")
        logDir = try flags.required("--log-dir")
        user = try flags.required("--user")
        hostname = try flags.required("--hostname")
        guard let launchTime = try flags.parsed("--launch-time", { Double($0) }), launchTime.isFinite else {
            throw Error("--launch-time needs a time in seconds")
        }
        self.launchTime = launchTime
        uid = try flags.parsed("--uid", { Int32($0) })
        for binding in flags.all("--port") {
            // The port follows the last ':' (a name never holds one: `-P name:port` splits at the first).
            guard let colon = binding.lastIndex(of: ":"), let port = Int(binding[binding.index(after: colon)...]),
                (0...65535).contains(port), colon != binding.startIndex
            else { throw Error("invalid value \"\(binding)\" for --port (name:port)") }
            let name = String(binding[..<colon])
            guard ports.updateValue(port, forKey: name) == nil else { throw Error("--port \(name) given twice") }
        }
        loggerDestination = try flags.parsed("--logger-destination", { LoggerDestination(rawValue: $0) })
        loggerMode = try flags.parsed("--logger-mode", { LoggerMode(rawValue: $0) })
        rotateLogSizeMB = try flags.parsed("--rotate-log-size-mb", { Int($0) })
        rotateLogBackups = try flags.parsed("--rotate-log-backups", { Int($0) })
        if let limit = try flags.parsed("--run-limit", { Int($0) }) {
            guard limit >= 1 else { throw Error("--run-limit needs a number >= 1") }
            runLimit = limit
        }
        fsync = try flags.parsed("--fsync", { SyncPolicy(rawValue: $0) }) ?? .group
        guard let wait = try flags.parsed("--preemption-wait", { Double($0) }), wait.isFinite, wait >= 0 else {
            throw Error("--preemption-wait needs seconds >= 0")
        }
        preemptionWait = wait
        logLevel = try flags.parsed("--log-level", { Logger.Level(rawValue: $0) }) ?? .info
        guard let exitCodes = try flags.parsed("--exit-codes", { ExitCodes(rawValue: $0) }) else { throw Error("--exit-codes is required") }
        self.exitCodes = exitCodes
        chroot = flags.contains("--chroot")
        preserveEnvironment = flags.contains("--preserve-env")
        force = flags.contains("--force")
        console = flags.contains("--console")
        removeSandboxWhenDone = flags.contains("--remove-sandbox-when-done")
        if taskID.isEmpty || root.isEmpty || sandbox.isEmpty || logDir.isEmpty || user.isEmpty {
            throw Error("--task-id, --root, --sandbox, --log-dir and --user must not be empty")
        }
    }

    static let booleanFlags: Set<String> = ["--chroot", "--preserve-env", "--force", "--console", "--remove-sandbox-when-done"]
    static let repeatedFlags: Set<String> = ["--port"]
    static let valueFlags: Set<String> = [
        "--task-fd", "--task-id", "--root", "--sandbox", "--log-dir", "--user", "--uid", "--hostname", "--launch-time",
        "--logger-destination", "--logger-mode", "--rotate-log-size-mb", "--rotate-log-backups", "--run-limit", "--fsync",
        "--preemption-wait", "--log-level", "--exit-codes",
    ]
}

extension RunnerInvocation.ExitCodes {
    /// The exit status of a runner that brought the task to `state` (or found it there).
    public func status(for state: TaskState) -> Int32 {
        switch self {
        case .executor: 0
        case .run:
            switch state {
            case .success: 0
            case .failed: 1
            case .killed: 3
            case .lost: 4
            case .active, .cleaning, .finalizing, .unknown: 5
            }
        }
    }

    /// The exit status of a runner stopped by `error`.
    public func status(for error: RunnerError) -> Int32 {
        switch self {
        case .executor: error.runnerExitStatus
        case .run:
            switch error.code {
            case .invalidTask, .unboundPort, .unknownUser, .permission: 2
            default: 5
            }
        }
    }
}
