import Glibc
import OrderedCollections
public import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

/// Runs one task on this machine (the original's `TaskRunner`, reference §1.5): replays the
/// task's checkpoint, takes control of it, and drives ACTIVE → CLEANING → FINALIZING → terminal,
/// writing every change before acting on it. Single-threaded: one instance is owned by the
/// thread that calls `run`; everything outside goes through its `RunnerPlatform`.
public final class TaskRunner {
    /// FORKED for longer than this without RUNNING → LOST (`LOST_TIMEOUT`).
    public static let lostTimeout = 60.0
    /// Longest sleep in ACTIVE without any event (a safety net, not a poll).
    static let activeSafetyWait = 15.0
    /// Longest sleep in CLEANING while processes are still alive.
    static let cleaningSafetyWait = 1.0

    public let configuration: RunnerConfiguration
    let platform: any RunnerPlatform
    let log: (String) -> Void

    /// The task's state as replayed and updated so far.
    public private(set) var state = RunnerState()
    var regularPlan: TaskPlanner
    var finalizingPlan: TaskPlanner
    /// Processes whose last run is a WAITING run ready to launch (`_task_processes`).
    var prepared: Set<String> = []
    var muxer: ProcessMuxer
    var recovery = true
    var writer: CheckpointWriter?
    /// Syncs the runner stream off the hot path under `--fsync=group`.
    var backgroundSync: BackgroundSync?
    var finalizationStart: Double?
    var preemptionDeadline: Double?
    var forcedTerminal: TaskState?
    let dispatcher = CheckpointDispatcher()
    let processOrder: [String: Int]
    let owner: ProcessOwner

    /// Builds the plans and replays the existing runner checkpoint (if any) in recovery mode.
    /// - Throws: `RunnerError` `.invalidTask` for an invalid schedule or a task that differs from
    ///   `tasks/active/<id>`, `.checkpoint` for an unreadable stream.
    public init(configuration: RunnerConfiguration, platform: any RunnerPlatform, log: @escaping (String) -> Void = { _ in }) throws(RunnerError) {
        self.configuration = configuration
        self.platform = platform
        self.log = log
        let task = configuration.task
        do {
            regularPlan = try TaskPlanner.regular(for: task, totalRunLimit: configuration.totalRunLimit)
            finalizingPlan = try TaskPlanner.finalizing(for: task, totalRunLimit: configuration.totalRunLimit)
        } catch {
            throw RunnerError(.invalidTask, "Invalid task: Task has invalid plan: \(error)")
        }
        processOrder = Dictionary(uniqueKeysWithValues: task.processes.enumerated().map { ($0.element.name, $0.offset) })
        owner = ProcessOwner(uid: configuration.uid, user: configuration.user)
        let root = configuration.root
        let taskID = configuration.taskID
        muxer = ProcessMuxer { TaskPath.processCheckpoint(root: root, taskID: taskID, process: $0) }
        try assertSameTask()
        try replayRunnerCheckpoint()
    }

    /// A task resumed by id must be the task recorded in `tasks/active/<id>` (`assert_same_task`).
    private func assertSameTask() throws(RunnerError) {
        let path = TaskPath.taskFile(root: configuration.root, taskID: configuration.taskID, state: .active)
        guard TaskFiles.exists(path) else { return }
        let recorded: TaskConfig
        do {
            recorded = try ConfigLoader.loadTemplates(path: path)[0].evaluate(context: nil, allowUnbound: true)
        } catch {
            throw RunnerError(.invalidTask, "Invalid task: cannot read the on-disk copy \(path): \(error)")
        }
        guard recorded == configuration.task else {
            throw RunnerError(
                .invalidTask,
                "Invalid task: Task differs from on disk copy \(path); use another --task-id, or the same config and bindings")
        }
    }

    /// The current task state (ACTIVE before anything is recorded).
    public var taskState: TaskState { state.taskState ?? .active }

    public var isTerminal: Bool { taskState.isTerminal }

    private func replayRunnerCheckpoint() throws(RunnerError) {
        let path = configuration.runnerCheckpoint
        guard TaskFiles.exists(path) else { return }
        let stream: CheckpointStream
        do {
            stream = try CheckpointReader.read(path: path)
        } catch {
            throw RunnerError(.checkpoint, "Failed to recover from \(path): \(error)")
        }
        if let warning = stream.tailWarning { log(warning) }
        for entry in stream.entries {
            try apply(entry.record)
        }
    }

    // MARK: - Recording

    /// Applies `record` to the state (the original dispatcher's rules), writes it unless in
    /// recovery, then performs its side effects.
    func apply(_ record: RunnerCkpt) throws(RunnerError) {
        var next = RunnerState()
        swap(&next, &state)
        let outcome: CheckpointDispatcher.Outcome
        do {
            outcome = try dispatcher.dispatch(&next, record, recovery: recovery)
        } catch {
            swap(&next, &state)
            throw RunnerError(.checkpoint, "\(configuration.runnerCheckpoint): cannot apply \(record): \(error)")
        }
        swap(&next, &state)
        guard outcome == .applied else { return }
        if !recovery, let writer {
            do {
                try writer.append(record)
            } catch {
                throw RunnerError(.checkpoint, "\(error)")
            }
        }
        try react(to: record)
    }

    func setTaskStatus(_ taskState: TaskState) throws(RunnerError) {
        try apply(.taskStatus(TaskStatus(
            state: taskState, timestampMs: Int64((platform.now() * 1000).rounded(.down)),
            runnerPid: platform.runnerPid, runnerUid: platform.runnerUid)))
    }

    func setProcessStatus(_ process: String, _ processState: ProcessState, stopTime: Double? = nil, returnCode: Int32? = nil) throws(RunnerError) {
        let seq = state.processes[process]?.last?.seq.map { $0 + 1 } ?? 0
        try apply(.processStatus(ProcessStatus(
            seq: seq, process: process, state: processState, stopTime: stopTime, returnCode: returnCode)))
    }

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
        try control(force: force)
        defer { closeCheckpoint() }
        try beginKill(terminal: terminal, wait: wait, duplicateState: false)
        try runLoop()
        return taskState
    }

    /// Binds to the runner checkpoint (exclusive lock), writes the current task state again,
    /// folds in what coordinators wrote meanwhile, and writes the header of a new task.
    func control(force: Bool) throws(RunnerError) {
        if isTerminal { throw RunnerError(.terminalTask, "Cannot take control of a task in terminal state.") }
        try TaskFiles.makeDirectories(configuration.sandbox)
        try TaskFiles.makeDirectories(TaskPath.checkpointDirectory(root: configuration.root, taskID: configuration.taskID))
        writer = try RunnerLock.open(configuration.runnerCheckpoint, policy: configuration.fsync, force: force, state: state, platform: platform, log: log)
        if configuration.fsync == .group, let writer { backgroundSync = BackgroundSync(descriptor: writer.fileDescriptor) }
        recovery = false
        watchLiveCoordinators()
        try setTaskStatus(taskState)
        var unapplied: [ProcessStatus] = []
        let updates: [ProcessStatus]
        do {
            updates = try muxer.select()
        } catch {
            throw RunnerError(.checkpoint, "\(error)")
        }
        for update in updates where CheckpointDispatcher.wouldUpdate(state, .processStatus(update)) {
            unapplied.append(update)
        }
        if isTerminal { throw RunnerError(.terminalTask, "Cannot resume terminal task.") }
        if state.header == nil {
            try apply(.runnerHeader(RunnerHeader(
                taskID: configuration.taskID, launchTimeMs: Int64((configuration.launchTime * 1000).rounded(.down)),
                sandbox: configuration.sandbox, hostname: configuration.hostname, user: configuration.user,
                ports: .init(uniqueKeysWithValues: configuration.ports.sorted { $0.key < $1.key }.map { ($0.key, Int64($0.value)) }),
                logDir: configuration.logDir, uid: configuration.uid)))
        }
        for update in unapplied {
            try apply(.processStatus(update))
        }
        requestSync()
    }

    /// Everything that follows the terminal record: leftovers killed, the stream synced, the task
    /// file moved to `tasks/finished` (synced), adopted orphans killed. Each step is idempotent,
    /// so a runner that died anywhere in between can have it redone by the next one.
    func completeFinalization() throws(RunnerError) {
        try killAll()
        try syncCheckpoint()
        try TaskFiles.finalize(root: configuration.root, taskID: configuration.taskID)
        platform.signalOrphans(SIGKILL, sparing: [])
    }

    /// A terminal task whose runner died after recording the end but before finishing it (its
    /// task file still in `tasks/active`): takes the lock and completes the finalization. A live
    /// runner holding the lock is finishing it itself; nothing to do then.
    /// - Returns: whether anything had to be completed.
    @discardableResult
    public func finishInterruptedFinalization() throws(RunnerError) -> Bool {
        guard isTerminal, TaskFiles.exists(TaskPath.taskFile(root: configuration.root, taskID: configuration.taskID, state: .active))
        else { return false }
        do {
            writer = try RunnerLock.open(configuration.runnerCheckpoint, policy: configuration.fsync, force: false, state: state, platform: platform, log: log)
        } catch where error.code == .locked {
            log("Task \(configuration.taskID) is \(taskState.name) and its live runner is finishing it.")
            return false
        }
        defer { closeCheckpoint() }
        log("Task \(configuration.taskID) is \(taskState.name) but its finalization was interrupted; completing it.")
        // What the dead runner wrote may still be only in the page cache: make it durable first.
        if let writer, fdatasync(writer.fileDescriptor) != 0 {
            throw RunnerError(.checkpoint, "\(configuration.runnerCheckpoint): cannot fdatasync: \(String(cString: strerror(errno)))", errno: errno)
        }
        recovery = false
        try completeFinalization()
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
            throw RunnerError(.checkpoint, "\(error)")
        }
    }

    /// Syncs and closes the runner checkpoint (releasing the lock).
    public func closeCheckpoint() {
        backgroundSync?.stop()
        backgroundSync = nil
        if let writer {
            do {
                try writer.close()
            } catch {
                log("\(error)")
            }
        }
        writer = nil
    }

    /// The number of the run a process's last record belongs to (0-based).
    func runNumber(_ process: String) -> Int { max((state.processes[process]?.count ?? 1) - 1, 0) }

    func plan(containing process: String) -> PlanKind {
        regularPlan.processes.contains(process) ? .regular : .finalizing
    }

    enum PlanKind {
        case regular, finalizing
    }
}
