import OrderedCollections
public import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

/// The runner's decisions as a value (reference §1.5, DESIGN §7): records and times in, actions
/// out, no I/O and no clock. `apply` folds one record into the state and returns what follows
/// from it (first the `append` of the record itself, then its side effects); `step` runs the
/// current stage (schedule, launch, stage transitions) and says when to be called again;
/// `observe` takes what the shell saw (exits, signals, scans, launch failures).
///
/// Recovery is replay with the actions dropped: `RunnerCore.recovering(…)` applies the records
/// of an existing runner stream and keeps only the state. `TaskRunner` executes the actions.
public struct RunnerCore: Sendable {
    /// FORKED for longer than this without RUNNING → LOST (`LOST_TIMEOUT`).
    public static let lostTimeout = 60.0
    /// Longest sleep in ACTIVE or FINALIZING without any event (a safety net, not a poll).
    static let activeSafetyWait = 15.0
    /// Longest sleep in CLEANING while processes are still alive.
    static let cleaningSafetyWait = 1.0

    /// Who this runner is: written into task statuses, and the user it runs as (processes of
    /// that user are started without a user switch).
    public struct Identity: Sendable, Hashable {
        public var pid: Int32
        public var uid: Int32
        public var userName: String?

        public init(pid: Int32, uid: Int32, userName: String?) {
            self.pid = pid
            self.uid = uid
            self.userName = userName
        }
    }

    public let configuration: RunnerConfiguration
    public let identity: Identity
    /// The task's state as applied so far.
    public private(set) var state = RunnerState()
    var regularPlan: TaskPlanner
    var finalizingPlan: TaskPlanner
    /// Processes whose last run is a WAITING run ready to launch (`_task_processes`).
    var prepared: Set<String> = []
    /// Processes launched whose FORKED record has not been applied yet.
    var launching: Set<String> = []
    /// Coordinators known to have exited (or not to be ours).
    var exitedCoordinators: Set<Int32> = []
    var finalizationStart: Double?
    var preemptionDeadline: Double?
    var forcedTerminal: TaskState?
    /// The last liveness scan in CLEANING, consumed by the next `step`.
    var cleaningScanFoundAlive: Bool?
    /// Processes kept down by `thermos stop` (state: rebuilt by replay).
    var stopped: Set<String> = []
    /// Why a kill began, for the closing line (not recorded).
    var killReason: String?
    let processOrder: [String: Int]
    /// Probe schedules and results, readiness seen (`RunnerCore+Probes.swift`).
    var probes = ProbeBook()
    /// The `started`/`ready` entries of `depends_on`.
    let startGates: StartGates
    /// The processes with a readiness or liveness probe (each step looks only at these).
    let probedProcesses: [ProcessConfig]

    /// A core with nothing applied yet.
    /// - Throws: `RunnerError` `.invalidTask` for an invalid schedule.
    public init(configuration: RunnerConfiguration, identity: Identity) throws(RunnerError) {
        self.configuration = configuration
        self.identity = identity
        let task = configuration.task
        do {
            regularPlan = try TaskPlanner.regular(for: task, totalRunLimit: configuration.totalRunLimit)
            finalizingPlan = try TaskPlanner.finalizing(for: task, totalRunLimit: configuration.totalRunLimit)
        } catch {
            throw RunnerError(.invalidTask, "Invalid task: Task has invalid plan: \(error)", cause: error)
        }
        startGates = StartGates(task: task)
        probedProcesses = task.processes.filter { $0.readiness != nil || $0.liveness != nil }
        processOrder = Dictionary(uniqueKeysWithValues: task.processes.enumerated().map { ($0.element.name, $0.offset) })
    }

    /// A core that replayed `records` (an existing runner stream) with their actions dropped.
    /// Out-of-order process updates are skipped, as the original's recovery does.
    public static func recovering(
        configuration: RunnerConfiguration, identity: Identity, records: some Sequence<RunnerCkpt>, now: Double
    ) throws(RunnerError) -> RunnerCore {
        var core = try RunnerCore(configuration: configuration, identity: identity)
        for record in records {
            _ = try core.apply(record, now: now, replaying: true)
        }
        return core
    }

    /// The current task state (ACTIVE before anything is recorded).
    public var taskState: TaskState { state.taskState ?? .active }

    public var isTerminal: Bool { taskState.isTerminal }

    // MARK: - Records

    /// Applies `record` (the dispatcher's rules) and returns its `append` followed by its side
    /// effects; nothing when replay skipped it as out of order.
    /// - Throws: `.checkpoint` for a record the state rejects, `.internalError` when the plan does.
    public mutating func apply(_ record: RunnerCkpt, now: Double) throws(RunnerError) -> [RunnerAction] {
        try apply(record, now: now, replaying: false)
    }

    mutating func apply(_ record: RunnerCkpt, now: Double, replaying: Bool) throws(RunnerError) -> [RunnerAction] {
        var next = state
        let outcome: CheckpointDispatcher.Outcome
        do {
            // The dispatcher has no handlers here: it only applies the original's state rules.
            outcome = try CheckpointDispatcher().dispatch(&next, record, recovery: replaying)
        } catch {
            throw RunnerError(.checkpoint, "\(configuration.runnerCheckpoint): cannot apply \(record): \(error)", cause: error)
        }
        guard outcome == .applied else { return [] }
        state = next
        return [.append(record)] + (try react(to: record, now: now))
    }

    /// Applies a new task status stamped `now`.
    mutating func setTaskStatus(_ taskState: TaskState, now: Double) throws(RunnerError) -> [RunnerAction] {
        try apply(.taskStatus(TaskStatus(
            state: taskState, timestampMs: Int64((now * 1000).rounded(.down)), runnerPid: identity.pid, runnerUid: identity.uid)),
            now: now)
    }

    /// Applies the next process status of `process`.
    mutating func setProcessStatus(
        _ process: String, _ processState: ProcessState, now: Double, stopTime: Double? = nil, returnCode: Int32? = nil
    ) throws(RunnerError) -> [RunnerAction] {
        let seq = state.processes[process]?.last?.seq.map { $0 + 1 } ?? 0
        return try apply(.processStatus(ProcessStatus(
            seq: seq, process: process, state: processState, stopTime: stopTime, returnCode: returnCode)), now: now)
    }

    // MARK: - Control

    /// Taking control of the task (the lock is held): watch the runs a previous runner left
    /// live, write the current task state again, and the header of a new task.
    /// - Throws: `.terminalTask` for a task already terminal.
    public mutating func takeControl(now: Double) throws(RunnerError) -> [RunnerAction] {
        if isTerminal { throw RunnerError(.terminalTask, "Cannot take control of a task in terminal state.") }
        var actions = resumeWatches() + killControlledLeftovers()
        actions += try setTaskStatus(taskState, now: now)
        if state.header == nil {
            actions += try apply(.runnerHeader(RunnerHeader(
                taskID: configuration.taskID, launchTimeMs: Int64((configuration.launchTime * 1000).rounded(.down)),
                sandbox: configuration.sandbox, hostname: configuration.hostname, user: configuration.user,
                ports: .init(uniqueKeysWithValues: configuration.ports.sorted { $0.key < $1.key }.map { ($0.key, Int64($0.value)) }),
                logDir: configuration.logDir, uid: configuration.uid)), now: now)
        }
        return actions
    }

    /// A task found terminal when it was resumed (its runner died during the terminal sweep):
    /// read what its coordinators wrote meanwhile, then finish that sweep (conclude what is left,
    /// sync, move the task file, SIGKILL orphans). Every step is idempotent.
    public func completeTerminalSweep() -> [RunnerAction] {
        isTerminal ? resumeWatches() + [.scanRuns(.conclude(finishing: true))] : []
    }

    /// The streams and coordinators of runs still live after replay (their WAITING, FORKED and
    /// RUNNING records were applied with actions dropped). A stream is read from above the last
    /// record applied, so nothing is applied twice.
    func resumeWatches() -> [RunnerAction] {
        var actions: [RunnerAction] = []
        for (name, runs) in state.processes {
            guard let run = runs.last, let seq = run.seq, !(run.state?.isTerminal ?? true) else { continue }
            actions.append(.watchStream(process: name, watermark: seq))
            if run.state == .forked || run.state == .running, let pid = run.coordinatorPid, let forkTime = run.forkTime {
                actions.append(.watchCoordinator(process: name, pid: pid, forkTime: forkTime))
            }
        }
        return actions
    }

    /// Starts a staged kill (`terminal` KILLED or LOST after `wait` seconds), or, when one is
    /// under way, cuts its wait short. `duplicateState` writes the current state again first
    /// (a signal to a running runner, as the original does).
    public mutating func beginKill(
        terminal: TaskState, wait: Double, duplicateState: Bool, reason: String? = nil, now: Double
    ) throws(RunnerError) -> [RunnerAction] {
        if forcedTerminal != nil {
            preemptionDeadline = now
            if terminal == .lost { forcedTerminal = .lost }
            return [.log("Kill requested again: killing what is left now.")]
        }
        var actions: [RunnerAction] = [.log(terminal == .lost ? "Losing task." : "Killing task (preemption wait \(wait) s).")]
        preemptionDeadline = now + wait
        forcedTerminal = terminal
        killReason = reason
        if duplicateState { actions += try setTaskStatus(taskState, now: now) }
        if taskState == .active { actions += try setTaskStatus(.cleaning, now: now) }
        return actions
    }

    // MARK: - Helpers

    enum PlanKind {
        case regular, finalizing
    }

    func plan(containing process: String) -> PlanKind {
        regularPlan.processes.contains(process) ? .regular : .finalizing
    }

    /// The number of the run a process's last record belongs to (0-based).
    func runNumber(_ process: String) -> Int { max((state.processes[process]?.count ?? 1) - 1, 0) }

    func byTaskOrder(_ a: String, _ b: String) -> Bool {
        (processOrder[a] ?? .max, a) < (processOrder[b] ?? .max, b)
    }

    /// Coordinators of runs not yet ended.
    func liveCoordinators() -> Set<Int32> {
        var pids = Set<Int32>()
        for runs in state.processes.values {
            if let run = runs.last, let pid = run.coordinatorPid, !(run.state?.isTerminal ?? true) { pids.insert(pid) }
        }
        return pids
    }

    /// Not deadlocked and under the task's `max_failures` (regular plan only).
    func isHealthy() -> Bool {
        let maxFailures = configuration.task.maxFailures
        return !regularPlan.isDeadlocked && !probes.gateDeadlock && (maxFailures == 0 || regularPlan.failed.count < maxFailures)
    }

    func terminalState() -> TaskState {
        forcedTerminal ?? (isHealthy() ? .success : .failed)
    }

    func finalizationRemaining(now: Double) -> Double {
        if let preemptionDeadline { return max(0, preemptionDeadline - now) }
        guard let finalizationStart else { return .greatestFiniteMagnitude }
        return max(0, Double(configuration.task.finalizationWait) - max(0, now - finalizationStart))
    }
}
