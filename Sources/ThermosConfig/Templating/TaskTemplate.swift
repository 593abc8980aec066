public import OrderedCollections

/// An unevaluated task as loaded from a file: the value tree (unknown keys dropped, schema
/// defaults filled in), plus bindings. `evaluate` resolves every `{{ref}}` and typechecks.
public struct TaskTemplate: Sendable, Hashable {
    /// The task's value tree, uninterpolated.
    public private(set) var value: ConfigValue
    /// The file it came from, for error messages.
    public var source: String?
    /// `-E name=value` bindings as a scope (`a.b=v` becomes `{"a": {"b": "v"}}`).
    public private(set) var bindings: OrderedDictionary<String, ConfigValue> = [:]

    /// A template from a raw task map (normalized against the schema).
    public init(value: ConfigValue, source: String? = nil) {
        self.value = SchemaKind.task.normalize(value)
        self.source = source
    }

    /// A template of an evaluated task (e.g. to re-check or re-render it).
    public init(task: TaskConfig, source: String? = nil) {
        self.init(value: task.configValue, source: source)
    }

    /// The name as written (may still hold `{{refs}}`).
    public var rawName: String? {
        if case .string(let name)? = value["name"] { return name }
        return nil
    }

    /// A copy with more bindings; later bindings of the same address win.
    public func binding(_ bindings: [(address: String, value: ConfigValue)]) -> TaskTemplate {
        var copy = self
        for (address, value) in bindings {
            copy.bindings = Self.insert(value, at: address.split(separator: ".").map(String.init), into: copy.bindings)
        }
        return copy
    }

    private static func insert(
        _ value: ConfigValue, at path: [String], into map: OrderedDictionary<String, ConfigValue>
    ) -> OrderedDictionary<String, ConfigValue> {
        var map = map
        guard let head = path.first else { return map }
        if path.count == 1 {
            map[head] = value
        } else {
            map[head] = .map(insert(value, at: Array(path.dropFirst()), into: map[head]?.mapValue ?? [:]))
        }
        return map
    }

    /// The `thermos` scope for a context (only the parts that are set).
    static func thermosScope(_ context: ThermosContext) -> ConfigValue {
        var thermos: OrderedDictionary<String, ConfigValue> = [:]
        if let taskID = context.taskID { thermos["task_id"] = .string(taskID) }
        if let user = context.user { thermos["user"] = .string(user) }
        thermos["ports"] = .map(OrderedDictionary(
            uniqueKeysWithValues: context.ports.sorted { $0.key < $1.key }.map { ($0.key, ConfigValue.integer(Int64($0.value))) }))
        return .map(["thermos": .map(thermos)])
    }

    /// The task with every resolvable reference replaced, and the names of those that are not.
    /// With a nil context, `{{thermos.*}}` references stay as text (what `inspect` shows).
    /// `keepingLiterals` leaves each `{{&x}}` escaped instead of turning it into the text `{{x}}`.
    public func interpolated(
        context: ThermosContext?, keepingLiterals: Bool = false
    ) throws(ConfigError) -> (value: ConfigValue, unbound: [String]) {
        var outer: [ConfigValue] = [.map(bindings)]
        if let context { outer.append(Self.thermosScope(context)) }
        var unbound: [String] = []
        do {
            let result = try Self.interpolateStruct(value, kind: .task, outer: outer, literals: keepingLiterals, unbound: &unbound)
            var seen = Set<String>()
            return (result, unbound.filter { seen.insert($0).inserted })
        } catch {
            throw error.inFile(source)
        }
    }

    /// Interpolates a struct: its own fields (and `self`) are the closest scope for its members.
    private static func interpolateStruct(
        _ value: ConfigValue, kind: SchemaKind, outer: [ConfigValue], literals: Bool, unbound: inout [String]
    ) throws(ConfigError) -> ConfigValue {
        guard case .map(let members) = value else {
            return try interpolateValue(value, scopes: outer, literals: literals, unbound: &unbound)
        }
        var selfScope = members
        selfScope["self"] = .map(members)
        let scopes = [ConfigValue.map(selfScope)] + outer
        var result: OrderedDictionary<String, ConfigValue> = [:]
        for (key, member) in members {
            if let (childKind, isList) = kind.child(key) {
                if isList, case .list(let items) = member {
                    var children: [ConfigValue] = []
                    for item in items {
                        children.append(try interpolateStruct(item, kind: childKind, outer: scopes, literals: literals, unbound: &unbound))
                    }
                    result[key] = .list(children)
                } else {
                    result[key] = try interpolateStruct(member, kind: childKind, outer: scopes, literals: literals, unbound: &unbound)
                }
            } else {
                result[key] = try interpolateValue(member, scopes: scopes, literals: literals, unbound: &unbound)
            }
        }
        return .map(result)
    }

    private static func interpolateValue(
        _ value: ConfigValue, scopes: [ConfigValue], literals: Bool, unbound: inout [String]
    ) throws(ConfigError) -> ConfigValue {
        switch value {
        case .string(let text):
            let (resolved, missing) = try Interpolator(scopes: scopes, keepsLiterals: literals).interpolate(text)
            unbound += missing
            return .string(resolved)
        case .list(let items):
            var result: [ConfigValue] = []
            for item in items { result.append(try interpolateValue(item, scopes: scopes, literals: literals, unbound: &unbound)) }
            return .list(result)
        case .map(let members):
            var result: OrderedDictionary<String, ConfigValue> = [:]
            for (key, member) in members { result[key] = try interpolateValue(member, scopes: scopes, literals: literals, unbound: &unbound) }
            return .map(result)
        case .integer, .double, .bool, .null:
            return value
        }
    }

    /// Interpolates with `context` and typechecks. Unless `allowUnbound` (what `inspect` uses,
    /// with a nil context, to show `{{thermos.*}}` as text), any reference left unbound is an
    /// error naming each one (`Failed to interpolate task, missing: {{first}}`).
    /// `keepingLiterals` as in `interpolated`.
    public func evaluate(
        context: ThermosContext?, allowUnbound: Bool = false, keepingLiterals: Bool = false
    ) throws(ConfigError) -> TaskConfig {
        let (resolved, unbound) = try interpolated(context: context, keepingLiterals: keepingLiterals)
        guard allowUnbound || unbound.isEmpty else {
            throw ConfigError(
                .unboundReference,
                "Failed to interpolate task, missing: \(unbound.map { "{{\($0)}}" }.joined(separator: ", "))",
                file: source)
        }
        let decoded = TaskDecoder.$keepingUnresolvedProbeTargets.withValue(allowUnbound) {
            Result { () throws(ConfigError) in try TaskDecoder.decodeTask(resolved) }
        }
        do {
            return try decoded.get()
        } catch {
            throw error.inFile(source)
        }
    }

    /// The port names the task needs (every `{{thermos.ports[name]}}`), sorted.
    /// `{{thermos.ports.name}}` is an error, as in the original.
    public func requiredPorts() throws(ConfigError) -> [String] {
        let unbound = try interpolated(context: nil).unbound
        var ports = Set<String>()
        for text in unbound {
            guard let reference = Reference(parsing: text), reference.components.count >= 2,
                reference.components[0] == .member("thermos"), reference.components[1] == .member("ports")
            else { continue }
            guard reference.components.count == 3, case .index(let name) = reference.components[2] else {
                throw ConfigError(
                    .invalidTask, "Bad port specification \"\(text)\" (should be of form \"thermos.ports[name]\"",
                    file: source)
            }
            ports.insert(name)
        }
        return ports.sorted()
    }
}
