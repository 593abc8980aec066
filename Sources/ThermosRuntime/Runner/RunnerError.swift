import Glibc
import ThermosCheckpoint
import ThermosPlatform

/// Why a runner could not start or continue: a code (which maps to `thermos runner`'s exit
/// status) and a message that names the file or field at fault.
public struct RunnerError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The task is invalid or differs from the one on disk (`thermos runner` exit 102).
        public static let invalidTask = Code("invalidTask")
        /// A port the task needs is not bound (101, like the original).
        public static let unboundPort = Code("unboundPort")
        /// The user does not exist (104).
        public static let unknownUser = Code("unknownUser")
        /// Running as another user needs root.
        public static let permission = Code("permission")
        /// The task is already terminal (105).
        public static let terminalTask = Code("terminalTask")
        /// Another live runner holds the task's checkpoint lock.
        public static let locked = Code("locked")
        /// A checkpoint stream could not be read or written.
        public static let checkpoint = Code("checkpoint")
        /// A coordinator could not be started.
        public static let launch = Code("launch")
        /// A broken invariant (101).
        public static let internalError = Code("internalError")
    }

    public var code: Code
    public var message: String
    /// `errno` of the failed system call behind it, when there is one.
    public var errno: Int32?
    /// The underlying error (a `CheckpointError`, `PlannerError`, `PlatformError`, …), if any.
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, errno: Int32? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.errno = errno ?? (cause as? PlatformError)?.errnoValue ?? (cause as? CheckpointError)?.errno
        self.cause = cause
    }

    /// True for the errors of our own storage (a full disk, a quota, a read-only remount, an I/O
    /// error): never the task's fault, so they stop the runner instead of failing a process.
    public var isStorageFailure: Bool {
        guard let errno else { return false }
        return [ENOSPC, EIO, EDQUOT, EROFS].contains(errno)
    }

    public var description: String { message }

    /// `thermos runner`'s exit status for this error (reference §3.12).
    public var runnerExitStatus: Int32 {
        switch code {
        case .invalidTask: 102
        case .unknownUser: 104
        case .terminalTask: 105
        case .unboundPort, .internalError: 101
        default: 103
        }
    }
}
