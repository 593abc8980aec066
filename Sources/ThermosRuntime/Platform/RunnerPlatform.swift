import Glibc
public import ThermosCheckpoint
public import ThermosConfig
public import ThermosControl
import ThermosCoordination

/// Everything the runner shell does to the outside world: the clock, coordinators, process
/// scans and signals, task files, crash points and waiting for events. `LinuxRunnerPlatform` is
/// the real one; tests drive `TaskRunner` with a fake that simulates coordinators and time.
public protocol RunnerPlatform: AnyObject {
    /// Seconds since the epoch.
    func now() -> Double
    /// Pid and uid written into task status records.
    var runnerPid: Int32 { get }
    var runnerUid: Int32 { get }
    /// The name of the user the runner runs as (processes of that user need no user switch).
    var runnerUserName: String? { get }

    /// Starts a coordinator for one run: takes the coordinator stream's lock, starts it, writes
    /// its FORKED record (`request.seq`) into the coordinator stream and releases it.
    /// - Returns: the FORKED record written.
    func launch(_ request: CoordinatorLaunch) throws(RunnerError) -> ProcessStatus
    /// Told before a step's launches are carried out one by one, so that what they need can be
    /// prepared at once (the fork server's spares). Optional.
    func prepareLaunches(_ requests: [CoordinatorLaunch])
    /// Told once the runner holds the task, before anything is launched: how many processes the
    /// task has. Optional (the fork server is started early for tasks of several processes).
    func expectLaunches(processes: Int, sandbox: String)

    /// Starts watching a coordinator (exit notification) that was recorded as FORKED, whether we
    /// started it or a previous runner did.
    /// - Returns: false if it is gone already (or the pid is no longer that coordinator).
    @discardableResult
    func watchCoordinator(process: String, pid: Int32, forkTime: Double) -> Bool
    /// Starts watching a coordinator stream for new records.
    func watchStream(path: String)
    /// Stops watching a coordinator stream (its run ended; a next run watches it again).
    func unwatchStream(path: String)
    /// The watched streams written since the last call, or nil when unknown (read them all).
    func takeChangedStreams() -> Set<String>?

    /// The validated live pids of a run (reference §1.7 `scan_process`): its coordinator, its
    /// command and the command's descendants.
    func scan(_ run: ProcessStatus, owner: ProcessOwner) -> ProcessScan

    /// CLEANING: SIGTERM the run's process group (the coordinator survives it and records how
    /// the command ended).
    func terminate(_ run: ProcessStatus, owner: ProcessOwner)
    /// SIGKILL everything of the run: its process group, coordinator, command and descendants.
    /// - Returns: what was alive.
    @discardableResult
    func kill(_ run: ProcessStatus, owner: ProcessOwner) -> ProcessScan
    /// Sends `signal` to every child of the runner that is not a live coordinator of `coordinators`
    /// (double-forked leftovers the runner adopted as child subreaper).
    func signalOrphans(_ signal: Int32, sparing coordinators: Set<Int32>)

    /// Blocks until an event arrives or `timeout` seconds pass; reaps exited children.
    func waitForEvents(timeout: Double) -> [RunnerEvent]

    /// Writes `tasks/active/<id>` unless it exists (a task already finished is an error).
    func initializeTaskFile(root: String, taskID: String, json: String) throws(RunnerError)
    /// Moves `tasks/active/<id>` to `tasks/finished/<id>` (done already: nothing to do).
    func finalizeTaskFile(root: String, taskID: String) throws(RunnerError)
    /// The fault tests' crash injection (`THERMOS_CRASH_AT`).
    func reachCrashPoint(_ point: CrashPoint, process: String)
    /// SIGKILLs the runner holding a task (`--force` takeover). One already gone is fine.
    func killRunner(pid: Int32) throws(RunnerError)

    /// Listens on the task's control socket (requests arrive as `RunnerEvent.controlRequest`).
    func openControlSocket(path: String, allowedUIDs: Set<UInt32>, ownerUID: UInt32?) throws(RunnerError)
    /// Answers one control client and closes its connection.
    func reply(client: Int32, _ response: ControlResponse)
    /// Stops listening and removes the socket.
    func closeControlSocket()
    /// Starts a probe attempt; its end arrives as `RunnerEvent.probeFinished`, or is returned
    /// at once when it ended without waiting (e.g. connection refused).
    func startProbe(_ request: ProbeRequest) -> (passed: Bool, detail: String)?
    /// Stops a probe attempt; its result is not reported.
    func cancelProbe(_ attempt: ProbeAttempt)
}

extension RunnerPlatform {
    public var runnerUserName: String? { currentUserName() }

    public func takeChangedStreams() -> Set<String>? { nil }

    public func prepareLaunches(_ requests: [CoordinatorLaunch]) {}

    public func unwatchStream(path: String) {}

    public func expectLaunches(processes: Int, sandbox: String) {}

    public func initializeTaskFile(root: String, taskID: String, json: String) throws(RunnerError) {
        try TaskFiles.initialize(root: root, taskID: taskID, json: json)
    }

    public func finalizeTaskFile(root: String, taskID: String) throws(RunnerError) {
        try TaskFiles.finalizeIfActive(root: root, taskID: taskID)
    }

    public func reachCrashPoint(_ point: CrashPoint, process: String) {
        point.reach(process: process)
    }

    /// A platform that runs no probes (the test fakes): attempts never report and the core
    /// cuts them at their timeout.
    public func startProbe(_ request: ProbeRequest) -> (passed: Bool, detail: String)? { nil }
    public func cancelProbe(_ attempt: ProbeAttempt) {}

    public func killRunner(pid: Int32) throws(RunnerError) {
        guard Glibc.kill(pid, SIGKILL) == 0 || errno == ESRCH else {
            throw RunnerError(.locked, "Cannot kill the existing runner (pid \(pid)): \(String(cString: strerror(errno)))", errno: errno)
        }
    }
}

/// The name of the user this process runs as (nil if it has no passwd entry).
func currentUserName() -> String? {
    guard let entry = getpwuid(getuid()) else { return nil }
    return String(cString: entry.pointee.pw_name)
}

/// What woke the runner.
public enum RunnerEvent: Sendable, Hashable {
    /// A coordinator stream grew.
    case streamChanged
    /// A watched coordinator exited.
    case coordinatorExited(pid: Int32)
    /// SIGINT, SIGTERM or SIGUSR1: staged kill.
    case killRequested
    /// SIGUSR2: lose the task.
    case loseRequested
    /// The timeout passed.
    case timeout
    /// A request read from the control socket, from connection `client`.
    case controlRequest(ControlRequest, client: Int32)
    /// A probe attempt ended.
    case probeFinished(ProbeAttempt, passed: Bool, detail: String)
}

/// Who launched a task's processes, for pid validation (header `uid`/`user`).
public struct ProcessOwner: Sendable, Hashable {
    public var uid: Int32?
    public var user: String?

    public init(uid: Int32?, user: String?) {
        self.uid = uid
        self.user = user
    }
}

/// Live pids of one run.
public struct ProcessScan: Sendable, Hashable {
    public var coordinatorPid: Int32?
    public var pid: Int32?
    public var tree: Set<Int32>

    public init(coordinatorPid: Int32? = nil, pid: Int32? = nil, tree: Set<Int32> = []) {
        self.coordinatorPid = coordinatorPid
        self.pid = pid
        self.tree = tree
    }

    /// True when anything of the run is alive.
    public var isAlive: Bool { coordinatorPid != nil || pid != nil || !tree.isEmpty }
}

/// How a process's output is logged, after runner flags and the process's `logger` are merged
/// (reference §1.5 `_build_process_logger_args`).
public struct ProcessLogging: Sendable, Hashable {
    public var destination: LoggerDestination
    public var mode: LoggerMode
    public var rotateSize: Int64
    public var rotateBackups: Int

    public init(destination: LoggerDestination = .file, mode: LoggerMode = .standard, rotateSize: Int64 = 100 * 1024 * 1024, rotateBackups: Int = 5) {
        self.destination = destination
        self.mode = mode
        self.rotateSize = rotateSize
        self.rotateBackups = rotateBackups
    }
}

/// Everything needed to start the coordinator of one run.
public struct CoordinatorLaunch: Sendable, Hashable {
    public var process: String
    public var cmdline: String
    /// `seq` of the FORKED record.
    public var seq: Int64
    public var run: Int
    public var checkpointPath: String
    /// `<log_dir>/<process>/<run>`.
    public var logDirectory: String
    public var sandbox: String
    /// Run as this user; nil = as the runner.
    public var user: String?
    public var chroot: Bool
    public var preserveEnvironment: Bool
    public var logging: ProcessLogging
    public var fsync: SyncPolicy
    /// Our extensions: the process's `env` and `cwd`.
    public var environment: [(key: String, value: String)] = []
    public var cwd: String?

    public static func == (lhs: CoordinatorLaunch, rhs: CoordinatorLaunch) -> Bool {
        lhs.process == rhs.process && lhs.cmdline == rhs.cmdline && lhs.seq == rhs.seq && lhs.run == rhs.run
            && lhs.checkpointPath == rhs.checkpointPath && lhs.logDirectory == rhs.logDirectory && lhs.sandbox == rhs.sandbox
            && lhs.user == rhs.user && lhs.chroot == rhs.chroot && lhs.preserveEnvironment == rhs.preserveEnvironment
            && lhs.logging == rhs.logging && lhs.fsync == rhs.fsync && lhs.cwd == rhs.cwd
            && lhs.environment.map(\.key) == rhs.environment.map(\.key) && lhs.environment.map(\.value) == rhs.environment.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(process)
        hasher.combine(seq)
    }
}

extension CoordinatorInvocation.Destination {
    init(_ destination: LoggerDestination) {
        switch destination {
        case .file: self = .file
        case .console: self = .console
        case .both: self = .both
        case .none: self = .none
        }
    }
}

extension CoordinatorInvocation.Mode {
    init(_ mode: LoggerMode) {
        switch mode {
        case .standard: self = .standard
        case .rotate: self = .rotate
        }
    }
}
