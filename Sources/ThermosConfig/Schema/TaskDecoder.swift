import OrderedCollections

/// Typechecks an interpolated value tree into the schema types, coercing like pystachio
/// (`"5"` → 5, `0/1` and `"true"` → Bool) and naming the failing field by its path.
enum TaskDecoder {
    typealias Members = OrderedDictionary<String, ConfigValue>

    static func decodeTask(_ value: ConfigValue) throws(ConfigError) -> TaskConfig {
        let members = try structMembers(value, kind: .task, path: "")
        var processes: [ProcessConfig] = []
        for (index, process) in (try list(members["processes"], path: "processes") ?? []).enumerated() {
            processes.append(try decodeProcess(process, path: "processes[\(index)]"))
        }
        var constraints: [Constraint] = []
        for (index, constraint) in (try list(members["constraints"], path: "constraints") ?? []).enumerated() {
            let path = "constraints[\(index)]"
            let fields = try structMembers(constraint, kind: .constraint, path: path)
            var order: [String] = []
            for (position, name) in (try list(fields["order"], path: "\(path).order") ?? []).enumerated() {
                order.append(try string(name, "Constraint", "order", path: "\(path).order[\(position)]"))
            }
            constraints.append(Constraint(order: order))
        }
        var task = TaskConfig(
            name: try string(try required(members, "name", of: .task, path: ""), "Task", "name", path: "name"),
            processes: processes,
            constraints: constraints,
            resources: try members["resources"].map { v throws(ConfigError) in try decodeResources(v, path: "resources") },
            maxFailures: try integer(members, "max_failures", of: .task, path: ""),
            maxConcurrency: try integer(members, "max_concurrency", of: .task, path: ""),
            finalizationWait: try integer(members, "finalization_wait", of: .task, path: ""),
            user: try members["user"].map { v throws(ConfigError) in try string(v, "Task", "user", path: "user") })
        task.healthCheck = try members["health_check"].map { v throws(ConfigError) in try decodeProbe(v, path: "health_check") }
        return task
    }

    static func decodeProcess(_ value: ConfigValue, path: String) throws(ConfigError) -> ProcessConfig {
        let members = try structMembers(value, kind: .process, path: path)
        let p = path + "."
        var process = ProcessConfig(
            name: try string(try required(members, "name", of: .process, path: path), "Process", "name", path: p + "name"),
            cmdline: try string(try required(members, "cmdline", of: .process, path: path), "Process", "cmdline", path: p + "cmdline"),
            resources: try members["resources"].map { v throws(ConfigError) in try decodeResources(v, path: p + "resources") },
            maxFailures: try integer(members, "max_failures", of: .process, path: path),
            daemon: try boolean(members, "daemon", path: path),
            ephemeral: try boolean(members, "ephemeral", path: path),
            minDuration: try integer(members, "min_duration", of: .process, path: path),
            final: try boolean(members, "final", path: path),
            logger: try members["logger"].map { v throws(ConfigError) in try decodeLogger(v, path: p + "logger") })
        try decodeExtensions(members, into: &process, path: path)
        return process
    }

    static func decodeResources(_ value: ConfigValue, path: String) throws(ConfigError) -> Resources {
        let members = try structMembers(value, kind: .resources, path: path)
        return Resources(
            cpu: try float(try required(members, "cpu", of: .resources, path: path), "Resources", "cpu", path: path + ".cpu"),
            ram: Int64(try integer(members, "ram", of: .resources, path: path)),
            disk: Int64(try integer(members, "disk", of: .resources, path: path)),
            gpu: Int64(try integer(members, "gpu", of: .resources, path: path)))
    }

    static func decodeLogger(_ value: ConfigValue, path: String) throws(ConfigError) -> LoggerConfig {
        let members = try structMembers(value, kind: .logger, path: path)
        func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(ConfigError) -> E
        where E.RawValue == String {
            let text = try string(try required(members, key, of: .logger, path: path), "Logger", key, path: "\(path).\(key)")
            guard let value = E(rawValue: text) else {
                let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(.typecheck, "Logger[\(key)] failed: '\(text)' not in the enumeration (\(allowed))", field: "\(path).\(key)")
            }
            return value
        }
        var rotate: RotatePolicy?
        if let policy = members["rotate"] {
            let fields = try structMembers(policy, kind: .rotatePolicy, path: path + ".rotate")
            rotate = RotatePolicy(
                logSize: Int64(try integer(fields, "log_size", of: .rotatePolicy, path: path + ".rotate")),
                backups: try integer(fields, "backups", of: .rotatePolicy, path: path + ".rotate"))
        }
        return LoggerConfig(
            destination: try enumeration("destination", LoggerDestination.self),
            mode: try enumeration("mode", LoggerMode.self),
            rotate: rotate)
    }

    // MARK: - Field helpers

    static func structMembers(_ value: ConfigValue, kind: SchemaKind, path: String) throws(ConfigError) -> Members {
        guard case .map(let members) = value else {
            throw ConfigError(.typecheck, "\(kind.name) expected an object, got \(describe(value))", field: path.isEmpty ? nil : path)
        }
        return members
    }

    static func required(_ members: Members, _ key: String, of kind: SchemaKind, path: String) throws(ConfigError) -> ConfigValue {
        guard let value = members[key] else {
            throw ConfigError(.typecheck, "\(kind.name)[\(key)] is required.", field: join(path, key))
        }
        return value
    }

    static func list(_ value: ConfigValue?, path: String) throws(ConfigError) -> [ConfigValue]? {
        guard let value else { return nil }
        guard case .list(let items) = value else {
            throw ConfigError(.typecheck, "expected a list, got \(describe(value))", field: path)
        }
        return items
    }

    static func string(_ value: ConfigValue, _ owner: String, _ key: String, path: String) throws(ConfigError) -> String {
        switch value {
        case .string(let text): return text
        case .integer, .double: return value.interpolationText
        default:
            throw ConfigError(.typecheck, "\(owner)[\(key)] failed: \(describe(value)) not a string", field: path)
        }
    }

    static func integer(_ members: Members, _ key: String, of kind: SchemaKind, path: String) throws(ConfigError) -> Int {
        let value = try required(members, key, of: kind, path: path)
        let field = join(path, key)
        switch value {
        case .integer(let number) where Int(exactly: number) != nil: return Int(number)
        case .double(let number) where number.rounded(.towardZero) == number && abs(number) < 9.2e18: return Int(number)
        case .bool(let flag): return flag ? 1 : 0
        case .string(let text):
            if let number = Int(text.trimmingWhitespace()) { return number }
            throw ConfigError(.typecheck, "\(kind.name)[\(key)] failed: Unable to interpolate: Cannot coerce '\(text)' to Integer", field: field)
        default:
            throw ConfigError(.typecheck, "\(kind.name)[\(key)] failed: \(describe(value)) not an integer", field: field)
        }
    }

    static func float(_ value: ConfigValue, _ owner: String, _ key: String, path: String) throws(ConfigError) -> Double {
        switch value {
        case .double(let number): return number
        case .integer(let number): return Double(number)
        case .string(let text):
            if let number = Double(text.trimmingWhitespace()) { return number }
            throw ConfigError(.typecheck, "\(owner)[\(key)] failed: Unable to interpolate: Cannot coerce '\(text)' to Float", field: path)
        default:
            throw ConfigError(.typecheck, "\(owner)[\(key)] failed: \(describe(value)) not a float", field: path)
        }
    }

    static func boolean(_ members: Members, _ key: String, path: String) throws(ConfigError) -> Bool {
        let value = try required(members, key, of: .process, path: path)
        switch value {
        case .bool(let flag): return flag
        case .integer(let number): return number != 0
        case .double(let number): return number != 0
        case .string(let text):
            switch text.trimmingWhitespace().lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default:
                throw ConfigError(.typecheck, "Process[\(key)] failed: Unable to interpolate: Cannot coerce '\(text)' to Boolean", field: join(path, key))
            }
        default:
            throw ConfigError(.typecheck, "Process[\(key)] failed: \(describe(value)) not a boolean", field: join(path, key))
        }
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    static func describe(_ value: ConfigValue) -> String {
        switch value {
        case .string(let text): "'\(text)'"
        case .list: "a list"
        case .map: "an object"
        case .null: "null"
        default: value.interpolationText
        }
    }
}
