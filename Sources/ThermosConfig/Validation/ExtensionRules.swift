import OrderedCollections
/// Validation of our schema extensions, each error one line naming the field and the fix:
/// `cwd` stays inside the sandbox, `env` names are usable, `depends_on` names known processes of
/// the same stage, `ready` needs a readiness probe, and the dependency graph (with the `order`
/// constraints) has no cycle.
public enum ExtensionRules {
    public static func check(_ task: TaskConfig) throws(ConfigError) {
        let indices = Dictionary(task.processes.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for (index, process) in task.processes.enumerated() {
            let path = "processes[\(index)]"
            if let cwd = process.cwd {
                if let problem = cwdProblem(cwd) {
                    throw ConfigError(.invalidTask, "cwd '\(cwd)' \(problem)", field: "\(path).cwd")
                }
            }
            for key in process.env.keys {
                if key.isEmpty || key.contains("=") || key.contains("\0") {
                    throw ConfigError(
                        .invalidTask, "env name '\(key)' is not usable: a name is not empty and has no '=' or NUL", field: "\(path).env")
                }
            }
            for (key, value) in process.env where value.contains("\0") {
                throw ConfigError(.invalidTask, "env value of \(key) contains a NUL byte", field: "\(path).env.\(key)")
            }
            for (other, condition) in process.dependsOn {
                let field = "\(path).depends_on.\(other)"
                guard let otherIndex = indices[other] else {
                    let known = task.processes.map(\.name).filter { $0 != process.name }
                    let hint = SchemaKind.closest(to: other, among: known).map { "did you mean \($0)?" }
                        ?? "known processes: \(known.joined(separator: ", "))"
                    throw ConfigError(.invalidTask, "depends on unknown process \(other); \(hint)", field: field)
                }
                guard other != process.name else {
                    throw ConfigError(.invalidTask, "a process cannot depend on itself; remove \(other) from depends_on", field: field)
                }
                let target = task.processes[otherIndex]
                guard target.final == process.final else {
                    throw ConfigError(
                        .invalidTask,
                        "\(process.final ? "final" : "regular") process \(process.name) cannot depend on \(target.final ? "final" : "regular") process \(other) (they run in different stages)",
                        field: field)
                }
                if condition == .ready && target.readiness == nil {
                    throw ConfigError(
                        .invalidTask, "\(other) has no readiness probe to be ready; add readiness to \(other) or use started", field: field)
                }
            }
        }
        // Without depends_on, a cycle of `order` constraints keeps the original's message.
        if task.processes.contains(where: { !$0.dependsOn.isEmpty }), let cycle = dependencyCycle(task) {
            let first = cycle[0]
            throw ConfigError(
                .invalidTask,
                "dependency cycle \((cycle + [first]).joined(separator: " → ")); remove one of these depends_on (or order) entries",
                field: "processes[\(indices[first] ?? 0)].depends_on")
        }
    }

    /// Why `cwd` does not name a directory inside the sandbox (absolute, or `..` climbing out), or nil.
    public static func cwdProblem(_ cwd: String) -> String? {
        if cwd.hasPrefix("/") { return "must be relative to the sandbox; drop the leading /" }
        if cwd.contains("\0") { return "contains a NUL byte" }
        if cwd.split(separator: "/").contains("..") { return "must stay inside the sandbox; remove the .. components" }
        return nil
    }

    /// A cycle through `depends_on` (any condition) and `order` edges, as a list of names, or nil.
    static func dependencyCycle(_ task: TaskConfig) -> [String]? {
        var edges: [String: [String]] = [:]
        for process in task.processes {
            edges[process.name, default: []] += process.dependsOn.keys
        }
        for constraint in task.constraints {
            for (previous, next) in zip(constraint.order, constraint.order.dropFirst()) {
                edges[next, default: []].append(previous)
            }
        }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ name: String) -> [String]? {
            if state[name] == 2 { return nil }
            if state[name] == 1, let start = stack.firstIndex(of: name) { return Array(stack[start...]) }
            state[name] = 1
            stack.append(name)
            for next in edges[name] ?? [] {
                if let cycle = visit(next) { return cycle }
            }
            stack.removeLast()
            state[name] = 2
            return nil
        }
        for process in task.processes {
            if let cycle = visit(process.name) { return cycle }
        }
        return nil
    }
}
