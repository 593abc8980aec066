import OrderedCollections

// The Aurora task JSON shape of the schema types (reference §2.7): the original's keys,
// every field with a default written, empty optional structs omitted.

extension Resources {
    public var configValue: ConfigValue {
        .map(["cpu": .double(cpu), "ram": .integer(ram), "disk": .integer(disk), "gpu": .integer(gpu)])
    }
}

extension LoggerConfig {
    public var configValue: ConfigValue {
        var members: OrderedDictionary<String, ConfigValue> = [
            "destination": .string(destination.rawValue), "mode": .string(mode.rawValue),
        ]
        if let rotate {
            members["rotate"] = .map(["log_size": .integer(rotate.logSize), "backups": .integer(Int64(rotate.backups))])
        }
        return .map(members)
    }
}

extension ProcessConfig {
    public var configValue: ConfigValue {
        var members: OrderedDictionary<String, ConfigValue> = [
            "daemon": .bool(daemon), "name": .string(name), "ephemeral": .bool(ephemeral),
            "max_failures": .integer(Int64(maxFailures)), "min_duration": .integer(Int64(minDuration)),
            "cmdline": .string(cmdline), "final": .bool(final),
        ]
        if let resources { members["resources"] = resources.configValue }
        if let logger { members["logger"] = logger.configValue }
        return .map(members)
    }
}

extension TaskConfig {
    /// The task as Aurora task JSON (`tasks/active/<id>` content via `jsonText()`).
    public var configValue: ConfigValue {
        var members: OrderedDictionary<String, ConfigValue> = [
            "processes": .list(processes.map(\.configValue)),
            "name": .string(name),
            "finalization_wait": .integer(Int64(finalizationWait)),
            "max_failures": .integer(Int64(maxFailures)),
            "max_concurrency": .integer(Int64(maxConcurrency)),
        ]
        if let resources { members["resources"] = resources.configValue }
        members["constraints"] = .list(constraints.map { .map(["order": .list($0.order.map(ConfigValue.string))]) })
        if let user { members["user"] = .string(user) }
        return .map(members)
    }

    /// Decodes an evaluated task from its JSON value (no templating).
    public init(configValue: ConfigValue) throws(ConfigError) {
        self = try TaskDecoder.decodeTask(SchemaKind.task.normalize(configValue))
    }
}
