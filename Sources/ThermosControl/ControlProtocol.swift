/// One request to a runner's control socket (`thermos restart|stop|start|kill`, the observer's
/// buttons). On the wire: one line of at most `ControlRequest.maximumLineLength` bytes,
/// `VERB ARGUMENT\n` — `restart NAME`, `stop NAME`, `start NAME`, `kill SECONDS`.
public enum ControlRequest: Sendable, Hashable {
    /// End the current run of a process (not a failure) and start a new one.
    case restart(process: String)
    /// End the current run of a process, if any, and keep it down.
    case stop(process: String)
    /// Let a stopped process run again.
    case start(process: String)
    /// A staged kill of the whole task (CLEANING → FINALIZING → KILLED) bounded by `wait` seconds.
    case kill(preemptionWait: Double)

    /// The longest request line a runner accepts, newline included.
    public static let maximumLineLength = 512

    /// The wire form, newline included.
    public var line: String {
        switch self {
        case .restart(let process): "restart \(process)\n"
        case .stop(let process): "stop \(process)\n"
        case .start(let process): "start \(process)\n"
        case .kill(let wait): "kill \(wait)\n"
        }
    }

    /// Parses one request line (without its newline).
    public init(line: Substring) throws(ControlResponse) {
        let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let verb = parts.first.map(String.init) ?? ""
        let argument = parts.count > 1 ? String(parts[1]) : ""
        switch verb {
        case "restart", "stop", "start":
            guard !argument.isEmpty, !argument.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw ControlResponse.error(.badRequest, "\(verb) needs a process name")
            }
            self = verb == "restart" ? .restart(process: argument) : verb == "stop" ? .stop(process: argument) : .start(process: argument)
        case "kill":
            guard let wait = Double(argument), wait.isFinite, wait >= 0 else {
                throw ControlResponse.error(.badRequest, "kill needs a preemption wait in seconds (>= 0), got '\(argument.prefix(40))'")
            }
            self = .kill(preemptionWait: wait)
        default:
            throw ControlResponse.error(.badRequest, "unknown request '\(verb.prefix(40))' (expected restart, stop, start or kill)")
        }
    }
}

/// The runner's answer to one `ControlRequest`: one line, `ok MESSAGE` or `error CODE MESSAGE`.
public enum ControlResponse: Error, Sendable, Hashable {
    case ok(String)
    case error(Code, String)

    /// Why a request was refused.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// Not a request line this runner understands.
        case badRequest = "bad-request"
        /// The line was longer than `ControlRequest.maximumLineLength`.
        case tooLong = "too-long"
        /// The connecting user is neither the task's owner nor root.
        case permissionDenied = "permission-denied"
        /// The task has no process of that name.
        case unknownProcess = "unknown-process"
        /// The process is in a state the request does not apply to (finished, final, not stopped…).
        case invalidState = "invalid-state"
        /// The task is no longer ACTIVE (being killed or finishing).
        case taskNotActive = "task-not-active"
        /// The runner could not carry it out (its checkpoint failed).
        case internalError = "internal-error"
    }

    /// The wire form, newline included (newlines inside the message become spaces).
    public var line: String {
        switch self {
        case .ok(let message): "ok \(Self.oneLine(message))\n"
        case .error(let code, let message): "error \(code.rawValue) \(Self.oneLine(message))\n"
        }
    }

    /// Parses one response line (without its newline); anything else is a protocol error.
    public init(line: Substring) throws(ControlClientError) {
        if line.hasPrefix("ok ") || line == "ok" {
            self = .ok(String(line.dropFirst(3)))
            return
        }
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "error", let code = Code(rawValue: String(parts[1])) else {
            throw ControlClientError(.protocolError, "unexpected answer from the runner: '\(line.prefix(80))'")
        }
        self = .error(code, parts.count > 2 ? String(parts[2]) : "")
    }

    /// The message, whether ok or error.
    public var message: String {
        switch self {
        case .ok(let message), .error(_, let message): message
        }
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
