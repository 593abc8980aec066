/// The flags of one of our typed command lines (`CoordinatorInvocation`, the runner's
/// `RunnerInvocation`), scanned once under the rules both share: an unknown flag, a flag without
/// its value, and a boolean or single-valued flag given twice are errors; a repeated flag keeps
/// its values in order. The typed side then takes its values with `required` and `parsed`.
public struct InvocationFlags: Sendable {
    /// Why a command line is not a valid invocation.
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    private var values: [String: String] = [:]
    private var lists: [String: [String]] = [:]
    private var present: Set<String> = []

    /// Scans `arguments` (after the binary path) against the three kinds of flags.
    public init(
        _ arguments: [String], booleans: Set<String>, values valueFlags: Set<String>, repeated: Set<String> = []
    ) throws(Error) {
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            index += 1
            if booleans.contains(flag) {
                guard present.insert(flag).inserted else { throw Error("\(flag) given twice") }
                continue
            }
            guard valueFlags.contains(flag) || repeated.contains(flag) else { throw Error("unknown flag \(flag)") }
            guard index < arguments.count else { throw Error("\(flag) needs a value") }
            let value = arguments[index]
            index += 1
            if repeated.contains(flag) {
                lists[flag, default: []].append(value)
            } else {
                guard values.updateValue(value, forKey: flag) == nil else { throw Error("\(flag) given twice") }
            }
        }
    }

    /// Whether the boolean `flag` was given.
    public func contains(_ flag: String) -> Bool { present.contains(flag) }

    /// The value of a single-valued `flag`, if given.
    public func value(_ flag: String) -> String? { values[flag] }

    /// Every value of a repeated `flag`, in order.
    public func all(_ flag: String) -> [String] { lists[flag] ?? [] }

    /// The value of `flag`, which must be given.
    public func required(_ flag: String) throws(Error) -> String {
        guard let value = values[flag] else { throw Error("\(flag) is required") }
        return value
    }

    /// The value of `flag` through `parse`, nil when not given; a value `parse` refuses is an error.
    public func parsed<T>(_ flag: String, _ parse: (String) -> T?) throws(Error) -> T? {
        guard let text = values[flag] else { return nil }
        guard let value = parse(text) else { throw Error("invalid value \"\(text)\" for \(flag)") }
        return value
    }
}
