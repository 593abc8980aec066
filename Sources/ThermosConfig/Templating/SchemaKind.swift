import OrderedCollections

/// The structs of the original schema, as seen by templating: which keys each has, their
/// defaults, and which members are structs themselves.
enum SchemaKind: Sendable {
    case task, process, resources, constraint, logger, rotatePolicy, probe

    var name: String {
        switch self {
        case .task: "Task"
        case .process: "Process"
        case .resources: "Resources"
        case .constraint: "Constraint"
        case .logger: "Logger"
        case .rotatePolicy: "RotatePolicy"
        case .probe: "Probe"
        }
    }

    /// Known keys, in the original's schema order.
    var keys: [String] {
        switch self {
        case .task: ["name", "processes", "constraints", "resources", "max_failures", "max_concurrency", "finalization_wait", "user", "health_check"]
        case .process: ["cmdline", "name", "resources", "max_failures", "daemon", "ephemeral", "min_duration", "final", "logger",
                       "env", "cwd", "readiness", "liveness", "depends_on"]
        case .resources: ["cpu", "ram", "disk", "gpu"]
        case .constraint: ["order"]
        case .logger: ["destination", "mode", "rotate"]
        case .rotatePolicy: ["log_size", "backups"]
        case .probe: ["exec", "http", "tcp", "initial_delay_secs", "interval_secs", "timeout_secs", "max_consecutive_failures", "expect_body"]
        }
    }

    /// Default values of the schema (reference §5.1).
    var defaults: OrderedDictionary<String, ConfigValue> {
        switch self {
        case .task:
            ["name": .string("{{processes[0].name}}"), "constraints": .list([]), "max_failures": .integer(1),
             "max_concurrency": .integer(0), "finalization_wait": .integer(30)]
        case .process:
            ["max_failures": .integer(1), "daemon": .bool(false), "ephemeral": .bool(false),
             "min_duration": .integer(5), "final": .bool(false)]
        case .resources: ["gpu": .integer(0)]
        case .constraint: [:]
        case .logger: ["destination": .string("file"), "mode": .string("standard")]
        case .rotatePolicy: ["log_size": .integer(100 * ByteUnit.mb), "backups": .integer(5)]
        case .probe:
            ["initial_delay_secs": .double(ProbeConfig.defaultInitialDelay), "interval_secs": .double(ProbeConfig.defaultInterval),
             "timeout_secs": .double(ProbeConfig.defaultTimeout),
             "max_consecutive_failures": .integer(Int64(ProbeConfig.defaultMaxConsecutiveFailures))]
        }
    }

    /// Members that are structs (or lists of structs), and their kind.
    func child(_ key: String) -> (kind: SchemaKind, isList: Bool)? {
        switch (self, key) {
        case (.task, "processes"): (.process, true)
        case (.task, "constraints"): (.constraint, true)
        case (.task, "resources"), (.process, "resources"): (.resources, false)
        case (.process, "logger"): (.logger, false)
        case (.logger, "rotate"): (.rotatePolicy, false)
        case (.process, "readiness"), (.process, "liveness"), (.task, "health_check"): (.probe, false)
        default: nil
        }
    }

    /// Keeps only known keys (unknown keys are ignored, as the original's JSON loader does),
    /// fills in defaults, and normalizes nested structs. Nulls count as absent.
    func normalize(_ value: ConfigValue) -> ConfigValue {
        guard case .map(let members) = value else { return value }
        var result: OrderedDictionary<String, ConfigValue> = [:]
        for key in keys {
            guard let member = members[key] ?? defaults[key], member != .null else { continue }
            if let (kind, isList) = child(key) {
                if isList, case .list(let items) = member {
                    result[key] = .list(items.map(kind.normalize))
                } else {
                    result[key] = kind.normalize(member)
                }
            } else {
                result[key] = member
            }
        }
        return .map(result)
    }
}
