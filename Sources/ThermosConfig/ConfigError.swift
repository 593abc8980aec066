/// A problem with a task configuration: a code, the file, the field path
/// (`processes[2].cmdline`) and a message in the original's words.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; extensible without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file could not be read.
        public static let unreadable = Code("unreadable")
        /// The file is not valid JSON/YAML, or has an unsupported format.
        public static let malformed = Code("malformed")
        /// No task, several tasks without `--task`, or an unknown task name.
        public static let taskSelection = Code("taskSelection")
        /// A field is missing or has the wrong type.
        public static let typecheck = Code("typecheck")
        /// A `{{ref}}` could not be resolved.
        public static let unboundReference = Code("unboundReference")
        /// Templating did not converge.
        public static let uninterpolatable = Code("uninterpolatable")
        /// The task breaks a validation rule (names, plan, ports).
        public static let invalidTask = Code("invalidTask")
    }

    public var code: Code
    public var message: String
    /// The config file, when known.
    public var file: String?
    /// The path of the field at fault, like `processes[2].cmdline`.
    public var field: String?

    public init(_ code: Code, _ message: String, file: String? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.field = field
    }

    /// One line: `<file>: <field>: <message>`.
    public var description: String {
        [file, field, message].compactMap { $0 }.joined(separator: ": ")
    }

    func inFile(_ path: String?) -> ConfigError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }
}
