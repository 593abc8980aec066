/// An error reading or writing a checkpoint stream: a code, the file (when known), the byte
/// offset of the record at fault (when known) and a message that says what is wrong.
public struct CheckpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; extensible without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The Thrift payload ended before the struct did.
        public static let truncatedPayload = Code("truncatedPayload")
        /// The Thrift payload is not a valid encoding of the expected struct.
        public static let malformedPayload = Code("malformedPayload")
        /// A record announces a length above the 64 MiB limit.
        public static let recordTooLarge = Code("recordTooLarge")
        /// The stream ends inside a record (a crash mid-write).
        public static let tornRecord = Code("tornRecord")
        /// The records are valid but their sequence is not (replay rules).
        public static let invalidSequence = Code("invalidSequence")
        /// A replayed record breaks the state rules of the original dispatcher.
        public static let invalidState = Code("invalidState")
        /// The file could not be opened, read, written or locked.
        public static let io = Code("io")
    }

    public var code: Code
    public var message: String
    /// The file involved, when known.
    public var path: String?
    /// Byte offset of the record at fault, when known.
    public var offset: Int?
    /// `errno` of a failed system call, when that is the cause.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
    }

    /// One line: `<file>: record at byte <n>: <message>`.
    public var description: String {
        var parts: [String] = []
        if let path { parts.append(path) }
        if let offset { parts.append("record at byte \(offset)") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// The same error, located in `path` at `offset` (keeps what is already set).
    func located(path: String?, offset: Int?) -> CheckpointError {
        var copy = self
        if copy.path == nil { copy.path = path }
        if copy.offset == nil { copy.offset = offset }
        return copy
    }
}
