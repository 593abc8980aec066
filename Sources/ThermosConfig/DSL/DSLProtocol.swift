public import OrderedCollections

/// The Python DSL configs: `.thermos` task files (`export(task)`) and `.aurora` job files
/// (`jobs = [...]`), rendered to task JSON by the embedded loader (`DSLLoaderScript`).
public enum DSLKind: String, Sendable {
    case thermos, aurora

    /// The DSL of `path` by its extension; nil for JSON/YAML.
    public static func of(_ path: String) -> DSLKind? {
        let lower = path.lowercased()
        if lower.hasSuffix(".thermos") { return .thermos }
        if lower.hasSuffix(".aurora") { return .aurora }
        return nil
    }
}

/// What the loader is asked to do: one file, `-E` bindings, a job key, and — under
/// `thermos run` — the `mesos.instance`/`mesos.hostname` of Aurora's executor.
public struct DSLRequest: Sendable, Hashable {
    /// The file as the user wrote it (what errors show).
    public var file: String
    /// The same file as an absolute path (what the loader opens and reports).
    public var absoluteFile: String
    public var kind: DSLKind
    public var bindings: [(address: String, value: String)]
    /// `CLUSTER/ROLE/ENV/NAME`, or a bare `NAME` when it is unique.
    public var job: String?
    /// Bound by `thermos run` only; `inspect`/`convert` leave `{{mesos.*}}` unbound.
    public var mesos: (instance: Int, hostname: String)?

    public init(
        file: String, absoluteFile: String, kind: DSLKind, bindings: [(address: String, value: String)] = [], job: String? = nil,
        mesos: (instance: Int, hostname: String)? = nil
    ) {
        self.file = file
        self.absoluteFile = absoluteFile
        self.kind = kind
        self.bindings = bindings
        self.job = job
        self.mesos = mesos
    }

    /// The request as the JSON argument the loader reads (`argv[1]`).
    public var argument: String {
        var members: OrderedDictionary<String, ConfigValue> = [
            "file": .string(absoluteFile), "kind": .string(kind.rawValue),
            "bindings": .list(bindings.map { .list([.string($0.address), .string($0.value)]) }),
            "job": job.map(ConfigValue.string) ?? .null,
        ]
        if let mesos {
            members["standard_mesos"] = .map(["instance": .integer(Int64(mesos.instance)), "hostname": .string(mesos.hostname)])
        }
        return ConfigValue.map(members).jsonText()
    }

    public static func == (lhs: DSLRequest, rhs: DSLRequest) -> Bool { lhs.argument == rhs.argument }
    public func hash(into hasher: inout Hasher) { hasher.combine(argument) }
}

/// Decoding what the loader printed: task JSON, or one error to show as one line.
public enum DSLResponse {
    /// The command that sets up the DSL's Python.
    public static let setupCommand = "thermos setup-dsl"

    /// The templates in `output` (strictly checked like YAML/JSON), or the loader's error as a
    /// `ConfigError` naming `request.file` (as the user wrote it) and the line.
    public static func templates(
        from output: String, request: DSLRequest, python: String
    ) throws(ConfigError) -> (templates: [TaskTemplate], job: String?) {
        let shownFile = request.file
        let noResult = ConfigError(.malformed, "the DSL loader (\(python)) gave no result; run \(setupCommand) to repair its Python", file: shownFile)
        guard let value = try? JSONParser.parse(output, file: shownFile), case .map = value else { throw noResult }
        if case .map(let error)? = value["error"] {
            throw Self.error(error, request: request, python: python)
        }
        guard case .list(let tasks)? = value["tasks"] else {
            throw ConfigError(.malformed, "the DSL loader (\(python)) gave no tasks", file: shownFile)
        }
        var templates: [TaskTemplate] = []
        for (index, task) in tasks.enumerated() {
            try SchemaKind.task.checkKeys(task, path: tasks.count > 1 ? "[\(index)]" : "", file: shownFile)
            templates.append(TaskTemplate(value: task, source: shownFile))
        }
        let job: String? = if case .string(let key)? = value["job"] { key } else { nil }
        return (templates, job)
    }

    private static func error(
        _ members: OrderedDictionary<String, ConfigValue>, request: DSLRequest, python: String
    ) -> ConfigError {
        // One line, whatever the config's exception said.
        let text = members["message"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? ""
        let message = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "failed"
        if members["kind"] == .string("missing_pystachio") {
            return ConfigError(
                .unreadable,
                "\(request.kind == .aurora ? ".aurora" : ".thermos") configs need pystachio>=0.8.10, which \(python) lacks (\(message)); install it with: \(setupCommand)",
                file: request.file)
        }
        var file = request.file
        if case .string(let reported)? = members["file"], !reported.isEmpty, reported != request.absoluteFile {
            file = reported
        }
        if case .integer(let line)? = members["line"] { file += ":\(line)" }
        let code: ConfigError.Code = members["kind"] == .string("selection") ? .taskSelection : .malformed
        return ConfigError(code, message, file: file)
    }

}
