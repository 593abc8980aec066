/// The state of one run of a process, as recorded in checkpoints (`ProcessState` in
/// `thermos_internal.thrift`). Unknown wire values survive decoding as `.unknown`.
public enum ProcessState: Sendable, Hashable, CustomStringConvertible {
    /// Blocked on dependencies or footprint; written by the runner before forking.
    case waiting
    /// The runner forked the coordinator.
    case forked
    /// The coordinator started the user command.
    case running
    /// The command exited with status 0.
    case success
    /// The command was killed by a signal, or by the runner.
    case killed
    /// The command exited non-zero, or could not be launched.
    case failed
    /// The coordinator vanished without a terminal record.
    case lost
    /// A value this version does not know.
    case unknown(Int32)

    /// Creates the state for a wire value; never fails.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .waiting
        case 1: self = .forked
        case 2: self = .running
        case 3: self = .success
        case 4: self = .killed
        case 5: self = .failed
        case 6: self = .lost
        default: self = .unknown(rawValue)
        }
    }

    /// The wire value.
    public var rawValue: Int32 {
        switch self {
        case .waiting: 0
        case .forked: 1
        case .running: 2
        case .success: 3
        case .killed: 4
        case .failed: 5
        case .lost: 6
        case .unknown(let value): value
        }
    }

    /// True for SUCCESS, KILLED, FAILED and LOST.
    public var isTerminal: Bool {
        switch self {
        case .success, .killed, .failed, .lost: true
        case .waiting, .forked, .running, .unknown: false
        }
    }

    /// The original's upper-case name (`RUNNING`), or `UNKNOWN(n)`.
    public var name: String {
        switch self {
        case .waiting: "WAITING"
        case .forked: "FORKED"
        case .running: "RUNNING"
        case .success: "SUCCESS"
        case .killed: "KILLED"
        case .failed: "FAILED"
        case .lost: "LOST"
        case .unknown(let value): "UNKNOWN(\(value))"
        }
    }

    public var description: String { name }

    /// Every known state, in wire order.
    public static let allKnown: [ProcessState] = [.waiting, .forked, .running, .success, .killed, .failed, .lost]
}

/// The state of a task (`TaskState` in `thermos_internal.thrift`). Unknown wire values survive
/// decoding as `.unknown`.
public enum TaskState: Sendable, Hashable, CustomStringConvertible {
    /// The regular plan is running.
    case active
    /// Terminal: the regular plan succeeded.
    case success
    /// Terminal: the regular plan failed.
    case failed
    /// Terminal: the task was killed.
    case killed
    /// Terminal: the task was lost.
    case lost
    /// The regular plan is over; processes still running are being terminated.
    case cleaning
    /// The `final` processes are running.
    case finalizing
    /// A value this version does not know.
    case unknown(Int32)

    /// Creates the state for a wire value; never fails.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .active
        case 1: self = .success
        case 2: self = .failed
        case 3: self = .killed
        case 4: self = .lost
        case 5: self = .cleaning
        case 6: self = .finalizing
        default: self = .unknown(rawValue)
        }
    }

    /// The wire value.
    public var rawValue: Int32 {
        switch self {
        case .active: 0
        case .success: 1
        case .failed: 2
        case .killed: 3
        case .lost: 4
        case .cleaning: 5
        case .finalizing: 6
        case .unknown(let value): value
        }
    }

    /// True for SUCCESS, FAILED, KILLED and LOST.
    public var isTerminal: Bool {
        switch self {
        case .success, .failed, .killed, .lost: true
        case .active, .cleaning, .finalizing, .unknown: false
        }
    }

    /// The original's upper-case name (`ACTIVE`), or `UNKNOWN(n)`.
    public var name: String {
        switch self {
        case .active: "ACTIVE"
        case .success: "SUCCESS"
        case .failed: "FAILED"
        case .killed: "KILLED"
        case .lost: "LOST"
        case .cleaning: "CLEANING"
        case .finalizing: "FINALIZING"
        case .unknown(let value): "UNKNOWN(\(value))"
        }
    }

    public var description: String { name }

    /// Every known state, in wire order.
    public static let allKnown: [TaskState] = [.active, .success, .failed, .killed, .lost, .cleaning, .finalizing]
}
