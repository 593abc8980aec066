/// Receives every record a `CheckpointDispatcher` applies, before the typed handlers
/// (the original's `UniversalStateHandler`). Methods default to doing nothing.
public protocol UniversalStateHandler: AnyObject {
    /// The header was bound to the state.
    func onInitialization(_ header: RunnerHeader) throws
    /// A task status was appended.
    func onTaskTransition(_ state: TaskState?, _ status: TaskStatus) throws
    /// A process status was applied to its run.
    func onProcessTransition(_ state: ProcessState, _ status: ProcessStatus) throws
}

extension UniversalStateHandler {
    public func onInitialization(_ header: RunnerHeader) throws {}
    public func onTaskTransition(_ state: TaskState?, _ status: TaskStatus) throws {}
    public func onProcessTransition(_ state: ProcessState, _ status: ProcessStatus) throws {}
}

/// Called once per process status, by the state it moves the run to (the original's
/// `ProcessStateHandler`). Methods default to doing nothing.
public protocol ProcessStateHandler: AnyObject {
    func onWaiting(_ status: ProcessStatus) throws
    func onForked(_ status: ProcessStatus) throws
    func onRunning(_ status: ProcessStatus) throws
    func onSuccess(_ status: ProcessStatus) throws
    func onFailed(_ status: ProcessStatus) throws
    func onLost(_ status: ProcessStatus) throws
    func onKilled(_ status: ProcessStatus) throws
}

extension ProcessStateHandler {
    public func onWaiting(_ status: ProcessStatus) throws {}
    public func onForked(_ status: ProcessStatus) throws {}
    public func onRunning(_ status: ProcessStatus) throws {}
    public func onSuccess(_ status: ProcessStatus) throws {}
    public func onFailed(_ status: ProcessStatus) throws {}
    public func onLost(_ status: ProcessStatus) throws {}
    public func onKilled(_ status: ProcessStatus) throws {}
}

/// Called once per task status, by the state the task moves to (the original's
/// `TaskStateHandler`). Methods default to doing nothing.
public protocol TaskStateHandler: AnyObject {
    func onActive(_ status: TaskStatus) throws
    func onCleaning(_ status: TaskStatus) throws
    func onFinalizing(_ status: TaskStatus) throws
    func onSuccess(_ status: TaskStatus) throws
    func onFailed(_ status: TaskStatus) throws
    func onKilled(_ status: TaskStatus) throws
    func onLost(_ status: TaskStatus) throws
}

extension TaskStateHandler {
    public func onActive(_ status: TaskStatus) throws {}
    public func onCleaning(_ status: TaskStatus) throws {}
    public func onFinalizing(_ status: TaskStatus) throws {}
    public func onSuccess(_ status: TaskStatus) throws {}
    public func onFailed(_ status: TaskStatus) throws {}
    public func onKilled(_ status: TaskStatus) throws {}
    public func onLost(_ status: TaskStatus) throws {}
}

extension ProcessStateHandler {
    func handle(_ state: ProcessState, _ status: ProcessStatus) throws {
        switch state {
        case .waiting: try onWaiting(status)
        case .forked: try onForked(status)
        case .running: try onRunning(status)
        case .success: try onSuccess(status)
        case .failed: try onFailed(status)
        case .lost: try onLost(status)
        case .killed: try onKilled(status)
        case .unknown: break
        }
    }
}

extension TaskStateHandler {
    func handle(_ state: TaskState, _ status: TaskStatus) throws {
        switch state {
        case .active: try onActive(status)
        case .cleaning: try onCleaning(status)
        case .finalizing: try onFinalizing(status)
        case .success: try onSuccess(status)
        case .failed: try onFailed(status)
        case .killed: try onKilled(status)
        case .lost: try onLost(status)
        case .unknown: break
        }
    }
}
