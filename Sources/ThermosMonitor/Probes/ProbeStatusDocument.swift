import OrderedCollections
public import ThermosConfig

/// The probe results a runner publishes in `checkpoints/<id>/probes.json` (our extension,
/// written by `ProbeStatusFile`), as `thermos status` and the observer show them. Parsed
/// without Foundation (`JSONParser`); anything that does not have this shape is "no data".
///
/// ```json
/// {"processes": {"server": {"ready": true,
///   "readiness": {"run": 0, "passed": true, "detail": "HTTP 200", "time": 1765000000.5, "consecutive_failures": 0}}},
///  "health": {…}}
/// ```
public struct ProbeStatusDocument: Codable, Equatable, Sendable {
    /// One probe's last attempt.
    public struct Outcome: Codable, Equatable, Sendable {
        public var run: Int
        public var passed: Bool
        public var detail: String
        /// Seconds since the epoch.
        public var time: Double
        public var consecutive_failures: Int

        public init(run: Int, passed: Bool, detail: String, time: Double, consecutive_failures: Int) {
            self.run = run
            self.passed = passed
            self.detail = detail
            self.time = time
            self.consecutive_failures = consecutive_failures
        }
    }

    /// A process's probes: `ready` only when it has a readiness probe.
    public struct Process: Codable, Equatable, Sendable {
        public var ready: Bool?
        public var readiness: Outcome?
        public var liveness: Outcome?

        public init(ready: Bool? = nil, readiness: Outcome? = nil, liveness: Outcome? = nil) {
            self.ready = ready
            self.readiness = readiness
            self.liveness = liveness
        }
    }

    public var processes: [String: Process]
    public var health: Outcome?

    /// Larger files are not read (a runner writes a few hundred bytes per process).
    public static let maximumSize = 256 * 1024

    public init(processes: [String: Process] = [:], health: Outcome? = nil) {
        self.processes = processes
        self.health = health
    }

    /// The document of `bytes`; nil when they are oversized, not JSON or not this shape.
    public init?(bytes: [UInt8]) {
        guard bytes.count <= Self.maximumSize,
              let value = try? JSONParser.parse(bytes: bytes, file: "probes.json"),
              case .map(let members) = value, case .map(let processes)? = members["processes"]
        else { return nil }
        var parsed: [String: Process] = [:]
        for (name, entry) in processes {
            guard case .map(let fields) = entry else { return nil }
            var process = Process()
            switch fields["ready"] {
            case nil, .null?: break
            case .bool(let ready)?: process.ready = ready
            default: return nil
            }
            for (key, path) in [("readiness", \Process.readiness), ("liveness", \Process.liveness)] {
                guard let raw = fields[key], raw != .null else { continue }
                guard let outcome = Self.outcome(raw) else { return nil }
                process[keyPath: path] = outcome
            }
            parsed[name] = process
        }
        var health: Outcome?
        if let raw = members["health"], raw != .null {
            guard let outcome = Self.outcome(raw) else { return nil }
            health = outcome
        }
        self.init(processes: parsed, health: health)
    }

    static func outcome(_ value: ConfigValue) -> Outcome? {
        guard case .map(let fields) = value, case .integer(let run)? = fields["run"], case .bool(let passed)? = fields["passed"],
              case .string(let detail)? = fields["detail"], case .integer(let failures)? = fields["consecutive_failures"]
        else { return nil }
        let time: Double
        switch fields["time"] {
        case .double(let value)?: time = value
        case .integer(let value)?: time = Double(value)
        default: return nil
        }
        guard let runNumber = Int(exactly: run), let failureCount = Int(exactly: failures) else { return nil }
        return Outcome(run: runNumber, passed: passed, detail: detail, time: time, consecutive_failures: failureCount)
    }

    /// The document as JSON values (what the observer serves), keys in a fixed order.
    public static func json(_ outcome: Outcome) -> ConfigValue {
        .map([
            "run": .integer(Int64(outcome.run)), "passed": .bool(outcome.passed), "detail": .string(outcome.detail),
            "time": .double(outcome.time), "consecutive_failures": .integer(Int64(outcome.consecutive_failures)),
        ])
    }
}
