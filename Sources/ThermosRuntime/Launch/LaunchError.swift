public import ThermosConfig

/// Why a task could not be turned into a runner configuration (`TaskLaunch`). Each CLI maps the
/// code to its own exit status; `cause` keeps the `ConfigError` behind an invalid task.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A `name:port` binding that does not parse.
        public static let invalidPortBinding = Code("invalidPortBinding")
        /// Ports the task needs are not bound (`missingPorts` names them).
        public static let unboundPorts = Code("unboundPorts")
        /// The task fails validation or evaluation (`cause` is the `ConfigError`).
        public static let invalidTask = Code("invalidTask")
        /// A process name that is not a valid file name (`^[^./][^/]*$`).
        public static let invalidProcessName = Code("invalidProcessName")
    }

    public var code: Code
    public var message: String
    /// The unbound port names, sorted (`unboundPorts` only).
    public var missingPorts: [String]
    /// The underlying `ConfigError`, if any.
    public var cause: ConfigError?

    public init(_ code: Code, _ message: String, missingPorts: [String] = [], cause: ConfigError? = nil) {
        self.code = code
        self.message = message
        self.missingPorts = missingPorts
        self.cause = cause
    }

    init(invalidTask cause: ConfigError) {
        self.init(.invalidTask, cause.description, cause: cause)
    }

    public var description: String { message }
}
