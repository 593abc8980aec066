/// What an operator asked of one process through the runner's control socket (`thermos
/// restart|stop|start`). Our extension of the checkpoint schema: it rides in fields that
/// Aurora's `thermos_internal.thrift` does not define (ProcessStatus field 12, TaskStatus
/// field 5), so Aurora's readers skip it and still see the ordinary states around it.
public enum ControlAction: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// End the current run (recorded KILLED, not a failure) and start a new one at once.
    case restart = 1
    /// End the current run, if any, and keep the process down.
    case stop = 2
    /// Let a stopped process run again.
    case start = 3

    /// `restart`, `stop`, `start`.
    public var description: String {
        switch self {
        case .restart: "restart"
        case .stop: "stop"
        case .start: "start"
        }
    }
}

/// A control decision that ends no run (stopping a process between runs, starting a stopped
/// one): recorded as a duplicate of the current `TaskStatus` carrying this in field 5.
public struct ControlDecision: Sendable, Hashable {
    /// Field 1: the `ControlAction` raw value (nil when unknown to this version).
    public var action: ControlAction?
    /// Field 2: the process it applies to.
    public var process: String?

    public init(action: ControlAction?, process: String?) {
        self.action = action
        self.process = process
    }
}
