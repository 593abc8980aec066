import Glibc
public import Logging
import OrderedCollections
public import ThermosCheckpoint
import ThermosConfig

/// Runs one task on this machine (the original's `TaskRunner`, reference §1.5): the imperative
/// shell around `RunnerCore`. It replays the task's checkpoint into the core, takes the lock,
/// and then only executes what the core decides — appending records, launching coordinators,
/// signalling, scanning — through its `RunnerPlatform`, feeding back what it sees (coordinator
/// records, exits, signals, scans). Single-threaded: one instance is owned by the thread that
/// calls `run`.
public final class TaskRunner {
    /// FORKED for longer than this without RUNNING → LOST (`LOST_TIMEOUT`).
    public static let lostTimeout = RunnerCore.lostTimeout

    public let configuration: RunnerConfiguration
    let platform: any RunnerPlatform
    let logger: Logger
    /// The decisions: state, plans, stage timing.
    public private(set) var core: RunnerCore
    var muxer: ProcessMuxer
    var writer: CheckpointWriter?
    /// Syncs the runner stream off the hot path under `--fsync=group`.
    var backgroundSync: BackgroundSync?
    let owner: ProcessOwner
    /// Coordinator exits seen but not yet told to the core: they are delivered after the streams
    /// were read (a coordinator writes its end before it exits).
    var pendingExits: [Int32] = []
    var collecting = false

    /// Replays the existing runner checkpoint (if any) into a fresh core.
    /// - Throws: `RunnerError` `.invalidTask` for an invalid schedule or a task that differs from
    ///   `tasks/active/<id>`, `.checkpoint` for an unreadable stream.
    public init(configuration: RunnerConfiguration, platform: any RunnerPlatform, logger: Logger = Logger(label: "runner")) throws(RunnerError) {
        self.configuration = configuration
        self.platform = platform
        self.logger = logger
        owner = ProcessOwner(uid: configuration.uid, user: configuration.user)
        let root = configuration.root
        let taskID = configuration.taskID
        muxer = ProcessMuxer { TaskPath.processCheckpoint(root: root, taskID: taskID, process: $0) }
        let identity = RunnerCore.Identity(pid: platform.runnerPid, uid: platform.runnerUid, userName: platform.runnerUserName)
        core = try RunnerCore(configuration: configuration, identity: identity)
        try assertSameTask()
        let path = configuration.runnerCheckpoint
        guard TaskFiles.exists(path) else { return }
        let stream: CheckpointStream
        do {
            stream = try CheckpointReader.read(path: path)
        } catch {
            throw RunnerError(.checkpoint, "Failed to recover from \(path): \(error)", cause: error)
        }
        if let warning = stream.tailWarning { logger.warning("\(warning)") }
        core = try RunnerCore.recovering(configuration: configuration, identity: identity, records: stream.records, now: platform.now())
    }

    /// A task resumed by id must be the task recorded in `tasks/active/<id>` (`assert_same_task`).
    private func assertSameTask() throws(RunnerError) {
        let path = TaskPath.taskFile(root: configuration.root, taskID: configuration.taskID, state: .active)
        guard TaskFiles.exists(path) else { return }
        let recorded: TaskConfig
        do {
            recorded = try TaskFiles.readTask(path: path)
        } catch {
            throw RunnerError(.invalidTask, "Invalid task: cannot read the on-disk copy \(path): \(error)", cause: error)
        }
        guard recorded == configuration.task else {
            throw RunnerError(
                .invalidTask,
                "Invalid task: Task differs from on disk copy \(path); use another --task-id, or the same config and bindings")
        }
    }

    /// The task's state as replayed and updated so far.
    public var state: RunnerState { core.state }

    /// The current task state (ACTIVE before anything is recorded).
    public var taskState: TaskState { core.taskState }

    public var isTerminal: Bool { core.isTerminal }

    // MARK: - Control

    /// Runs the task to a terminal state and returns it. A task already terminal is left as it is.
    /// - Parameter force: take over from a live runner by killing it.
    @discardableResult
    public func run(force: Bool = false) throws(RunnerError) -> TaskState {
        if isTerminal {
            try finishInterruptedFinalization()
            return taskState
        }
        try control(force: force)
        defer { closeCheckpoint() }
        let session = RunnerSession(configuration, logger: logger)
        defer { session.end(terminal: isTerminal) }
        try runLoop()
        return taskState
    }

    /// Takes control and kills the task in stages: CLEANING (SIGTERM), FINALIZING, then
    /// `terminal` once everything is gone or `wait` has passed (the original's `kill`/`lose`).
    @discardableResult
    public func kill(force: Bool = false, terminal: TaskState = .killed, wait: Double) throws(RunnerError) -> TaskState {
        if isTerminal {
            try finishInterruptedFinalization()
            return taskState
        }
        try control(force: force, launching: false)
        defer { closeCheckpoint() }
        try perform(core.beginKill(terminal: terminal, wait: wait, duplicateState: false, now: platform.now()))
        try runLoop()
        return taskState
    }

    /// Binds to the runner checkpoint (exclusive lock), then lets the core take control (write
    /// the current state again, the header of a new task, watch what a previous runner left
    /// live) and folds in what coordinators wrote meanwhile.
    /// - Parameter launching: whether the task will run (its fork server may start early), not
    ///   only be killed.
    func control(force: Bool, launching: Bool = true) throws(RunnerError) {
        if isTerminal { throw RunnerError(.terminalTask, "Cannot take control of a task in terminal state.") }
        try TaskFiles.makeDirectories(configuration.sandbox)
        try TaskFiles.makeDirectories(TaskPath.checkpointDirectory(root: configuration.root, taskID: configuration.taskID))
        writer = try RunnerLock.open(configuration.runnerCheckpoint, policy: configuration.fsync, force: force, state: state, platform: platform, logger: logger)
        if configuration.fsync == .group, let writer { backgroundSync = BackgroundSync(descriptor: writer.fileDescriptor) }
        openControlSocket()
        if launching { platform.expectLaunches(processes: configuration.task.processes.count, sandbox: configuration.sandbox) }
        try perform(core.takeControl(now: platform.now()))
        try settle()
        requestSync()
    }

    /// Steps the core until the task is terminal, waiting for events in between.
    func runLoop() throws(RunnerError) {
        while !isTerminal {
            try settle()
            let (actions, wakeAt) = try core.step(now: platform.now())
            try perform(actions)
            if isTerminal { break }
            if try collectUpdates() > 0 || !pendingExits.isEmpty { continue }
            guard let wakeAt else { break }
            let timeout = wakeAt - platform.now()
            if timeout <= 0 { continue }
            requestSync()
            for event in platform.waitForEvents(timeout: timeout) {
                switch event {
                case .killRequested: try perform(core.observe(.killRequested, now: platform.now()))
                case .loseRequested: try perform(core.observe(.loseRequested, now: platform.now()))
                case .coordinatorExited(let pid): pendingExits.append(pid)
                case .controlRequest(let request, let client):
                    // Decide on the latest state: fold in what coordinators wrote meanwhile first.
                    try settle()
                    try perform(core.observe(.controlRequested(request, client: client), now: platform.now()))
                case .probeFinished(let attempt, let passed, let detail):
                    try perform(core.observe(.probeFinished(attempt, passed: passed, detail: detail), now: platform.now()))
                case .streamChanged, .timeout: break
                }
            }
        }
    }

    /// Reads the coordinator streams until nothing is new, then tells the core of the exits seen.
    func settle() throws(RunnerError) {
        while try collectUpdates() > 0 {}
        while !pendingExits.isEmpty {
            let exits = pendingExits
            pendingExits = []
            for pid in exits { try perform(core.observe(.coordinatorExited(pid: pid), now: platform.now())) }
            while try collectUpdates() > 0 {}
        }
    }

    /// Muxes new coordinator records into the core (and so into the runner stream); returns how
    /// many. Not re-entered: a record's actions never read streams in the middle of a batch.
    func collectUpdates() throws(RunnerError) -> Int {
        guard !collecting else { return 0 }
        collecting = true
        defer { collecting = false }
        let updates: [ProcessStatus]
        do {
            updates = try muxer.select(changed: platform.takeChangedStreams())
        } catch {
            throw RunnerError(.checkpoint, "\(error)", cause: error)
        }
        for update in updates {
            try perform(core.apply(.processStatus(update), now: platform.now()))
        }
        return updates.count
    }

    // MARK: - Executing actions

    func perform(_ actions: [RunnerAction]) throws(RunnerError) {
        let launches = actions.compactMap { action -> CoordinatorLaunch? in
            if case .launch(let request) = action { return request }
            return nil
        }
        if !launches.isEmpty { platform.prepareLaunches(launches) }
        for action in actions {
            try perform(action)
        }
    }

    private func perform(_ action: RunnerAction) throws(RunnerError) {
        switch action {
        case .append(let record):
            guard let writer else { throw RunnerError(.internalError, "no runner checkpoint open to append \(record)") }
            do {
                try writer.append(record)
            } catch {
                throw RunnerError(.checkpoint, "\(error)", cause: error)
            }
        case .launch(let request):
            do {
                _ = try platform.launch(request)
            } catch where error.isStorageFailure {
                // Our own disk failed (full, quota, read-only, I/O error), not the process: stop with
                // the task resumable (WAITING stays the last record) instead of recording a failure.
                throw RunnerError(.checkpoint, "Cannot start Process(\(request.process)): \(error.message)", errno: error.errno, cause: error)
            } catch {
                try perform(core.observe(.launchFailed(process: request.process, reason: error.message), now: platform.now()))
            }
        case .terminate(let run):
            platform.terminate(run, owner: owner)
        case .kill(let run):
            _ = platform.kill(run, owner: owner)
        case .signalOrphans(let signal, let sparing):
            platform.signalOrphans(signal == .kill ? SIGKILL : SIGTERM, sparing: sparing)
        case .scanRuns(let purpose):
            // What coordinators already recorded wins over what a scan would conclude; a run
            // found dead had its end (if any) written before it died, so read once more after.
            _ = try collectUpdates()
            var scans: [String: ProcessScan] = [:]
            for (name, runs) in state.processes {
                if let run = runs.last { scans[name] = platform.scan(run, owner: owner) }
            }
            _ = try collectUpdates()
            try perform(core.observe(.scanned(purpose, scans), now: platform.now()))
        case .watchStream(let process, let watermark):
            muxer.register(process, watermark: watermark)
            platform.watchStream(path: configuration.coordinatorCheckpoint(process))
        case .unwatchStream(let process):
            muxer.unregister(process)
            platform.unwatchStream(path: configuration.coordinatorCheckpoint(process))
        case .watchCoordinator(let process, let pid, let forkTime):
            if !platform.watchCoordinator(process: process, pid: pid, forkTime: forkTime) { pendingExits.append(pid) }
        case .initializeTaskFile:
            try platform.initializeTaskFile(root: configuration.root, taskID: configuration.taskID, json: configuration.task.configValue.jsonText())
        case .finalizeTaskFile:
            try platform.finalizeTaskFile(root: configuration.root, taskID: configuration.taskID)
        case .sync:
            try syncCheckpoint()
        case .crashPoint(let point, let process):
            platform.reachCrashPoint(point, process: process)
        case .log(let line):
            logger.info("\(line)")
        case .reply(let client, let response):
            platform.reply(client: client, response)
        case .startProbe(let request):
            if let (passed, detail) = platform.startProbe(request) {
                try perform(core.observe(.probeFinished(request.attempt, passed: passed, detail: detail), now: platform.now()))
            }
        case .cancelProbe(let attempt):
            platform.cancelProbe(attempt)
        case .publishProbes(let report):
            ProbeStatusFile.write(report, to: ProbeStatusFile.path(root: configuration.root, taskID: configuration.taskID), logger: logger)
        }
    }

    // MARK: - The runner stream

    /// A terminal task whose runner died after recording the end but before finishing it (its
    /// task file still in `tasks/active`): takes the lock and completes the terminal sweep
    /// (each step is idempotent). A live runner holding the lock is finishing it itself.
    /// - Returns: whether anything had to be completed.
    @discardableResult
    public func finishInterruptedFinalization() throws(RunnerError) -> Bool {
        guard isTerminal, TaskFiles.exists(TaskPath.taskFile(root: configuration.root, taskID: configuration.taskID, state: .active))
        else { return false }
        do {
            writer = try RunnerLock.open(configuration.runnerCheckpoint, policy: configuration.fsync, force: false, state: state, platform: platform, logger: logger)
        } catch where error.code == .locked {
            logger.info("Task \(configuration.taskID) is \(taskState.name) and its live runner is finishing it.")
            return false
        }
        defer { closeCheckpoint() }
        logger.info("Task \(configuration.taskID) is \(taskState.name) but its finalization was interrupted; completing it.")
        // What the dead runner wrote may still be only in the page cache: make it durable first.
        if let writer, fdatasync(writer.fileDescriptor) != 0 {
            throw RunnerError(.checkpoint, "\(configuration.runnerCheckpoint): cannot fdatasync: \(String(cString: strerror(errno)))", errno: errno)
        }
        try perform(core.completeTerminalSweep())
        try settle()
        return true
    }

    /// Under `--fsync=group`, has the background thread sync what was written so far.
    func requestSync() {
        backgroundSync?.request()
    }

    /// Syncs the runner stream now (before a terminal state takes effect).
    func syncCheckpoint() throws(RunnerError) {
        guard let writer, writer.policy != .none else { return }
        do {
            try writer.sync()
        } catch {
            throw RunnerError(.checkpoint, "\(error)", cause: error)
        }
    }

    /// Syncs and closes the runner checkpoint (releasing the lock).
    public func closeCheckpoint() {
        platform.closeControlSocket()
        backgroundSync?.stop()
        backgroundSync = nil
        if let writer {
            do {
                try writer.close()
            } catch {
                logger.error("\(error)")
            }
        }
        writer = nil
    }
}
