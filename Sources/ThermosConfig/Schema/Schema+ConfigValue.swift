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
        // Our extensions, only when given: a task without them writes Aurora's JSON unchanged.
        if !env.isEmpty { members["env"] = .map(env.mapValues(ConfigValue.string)) }
        if let cwd { members["cwd"] = .string(cwd) }
        if let readiness { members["readiness"] = readiness.configValue }
        if let liveness { members["liveness"] = liveness.configValue }
        if !dependsOn.isEmpty { members["depends_on"] = .map(dependsOn.mapValues { .string($0.rawValue) }) }
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
        if let healthCheck { members["health_check"] = healthCheck.configValue }
        return .map(members)
    }

    /// Decodes an evaluated task from its JSON value (no templating).
    public init(configValue: ConfigValue) throws(ConfigError) {
        self = try TaskDecoder.decodeTask(SchemaKind.task.normalize(configValue))
    }
}
