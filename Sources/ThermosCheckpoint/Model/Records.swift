public import OrderedCollections

/// `RunnerHeader`: who runs the task, where, with which ports. Written once per task.
/// Every field is optional on the wire; absent fields are not written.
public struct RunnerHeader: Sendable, Hashable {
    /// Field 1.
    public var taskID: String?
    /// Field 2: launch time in milliseconds since the epoch.
    public var launchTimeMs: Int64?
    /// Field 3: the sandbox path (relative in some legacy data).
    public var sandbox: String?
    /// Field 4.
    public var hostname: String?
    /// Field 5.
    public var user: String?
    /// Field 6: named ports, in the order they were written.
    public var ports: OrderedDictionary<String, Int64>?
    /// Field 7: the log directory; absent in 2012-era checkpoints (legacy log layout).
    public var logDir: String?
    /// Field 8: the uid of `user`; absent before 2014.
    public var uid: Int32?

    public init(
        taskID: String? = nil, launchTimeMs: Int64? = nil, sandbox: String? = nil, hostname: String? = nil,
        user: String? = nil, ports: OrderedDictionary<String, Int64>? = nil, logDir: String? = nil, uid: Int32? = nil
    ) {
        self.taskID = taskID
        self.launchTimeMs = launchTimeMs
        self.sandbox = sandbox
        self.hostname = hostname
        self.user = user
        self.ports = ports
        self.logDir = logDir
        self.uid = uid
    }
}

/// `ProcessStatus`: one state change of one run of a process. Times are seconds since the epoch.
public struct ProcessStatus: Sendable, Hashable {
    /// Field 1: per-process sequence number, increasing across runs.
    public var seq: Int64?
    /// Field 3: the process name.
    public var process: String?
    /// Field 5.
    public var state: ProcessState?
    /// Field 6: set on RUNNING.
    public var startTime: Double?
    /// Field 7: pid of the user command; set on RUNNING.
    public var pid: Int32?
    /// Field 8: set on terminal states.
    public var stopTime: Double?
    /// Field 9: exit status; `-signal` when killed.
    public var returnCode: Int32?
    /// Field 10: pid of the coordinator; set on FORKED.
    public var coordinatorPid: Int32?
    /// Field 11: set on FORKED.
    public var forkTime: Double?
    /// Field 12 (ours, skipped by Aurora readers): the operator control that ended this run
    /// (a KILLED record written by the runner for `thermos restart|stop`).
    public var control: ControlAction?

    public init(
        seq: Int64? = nil, process: String? = nil, state: ProcessState? = nil, startTime: Double? = nil,
        pid: Int32? = nil, stopTime: Double? = nil, returnCode: Int32? = nil, coordinatorPid: Int32? = nil,
        forkTime: Double? = nil, control: ControlAction? = nil
    ) {
        self.seq = seq
        self.process = process
        self.state = state
        self.startTime = startTime
        self.pid = pid
        self.stopTime = stopTime
        self.returnCode = returnCode
        self.coordinatorPid = coordinatorPid
        self.forkTime = forkTime
        self.control = control
    }
}

/// `TaskStatus`: one task state change and the process that wrote it.
public struct TaskStatus: Sendable, Hashable {
    /// Field 1.
    public var state: TaskState?
    /// Field 2: milliseconds since the epoch.
    public var timestampMs: Int64?
    /// Field 3: pid of the writer (runner or `thermos kill`).
    public var runnerPid: Int32?
    /// Field 4: uid of the writer.
    public var runnerUid: Int32?
    /// Field 5 (ours, skipped by Aurora readers): a control decision recorded with a duplicate
    /// of the current state (`thermos stop` between runs, `thermos start`).
    public var control: ControlDecision?

    public init(
        state: TaskState? = nil, timestampMs: Int64? = nil, runnerPid: Int32? = nil, runnerUid: Int32? = nil,
        control: ControlDecision? = nil
    ) {
        self.state = state
        self.timestampMs = timestampMs
        self.runnerPid = runnerPid
        self.runnerUid = runnerUid
        self.control = control
    }
}

/// `RunnerCkpt`: the union stored in every checkpoint record.
public enum RunnerCkpt: Sendable, Hashable {
    /// Field 1.
    case runnerHeader(RunnerHeader)
    /// Field 2.
    case processStatus(ProcessStatus)
    /// Field 3.
    case taskStatus(TaskStatus)
}

/// `RunnerState`: the state of a task rebuilt by replaying its checkpoint stream.
public struct RunnerState: Sendable, Hashable {
    /// Field 1: the header, once seen.
    public var header: RunnerHeader?
    /// Field 2: every task status, in stream order.
    public var statuses: [TaskStatus]
    /// Field 3: the runs of each process, processes in order of first appearance.
    public var processes: OrderedDictionary<String, [ProcessStatus]>

    public init(
        header: RunnerHeader? = nil, statuses: [TaskStatus] = [],
        processes: OrderedDictionary<String, [ProcessStatus]> = [:]
    ) {
        self.header = header
        self.statuses = statuses
        self.processes = processes
    }

    /// The last task state, if any status was recorded.
    public var taskState: TaskState? { statuses.last?.state }
}
