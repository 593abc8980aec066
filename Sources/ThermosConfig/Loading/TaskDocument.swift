import OrderedCollections

/// The tasks of a parsed config document, whatever its format (no file I/O, no Foundation):
/// one task (an object), several (a list, or `{"tasks": [...]}`), or none (`null`). The
/// YAML/JSON file loader (`ConfigLoader` in `ThermosConfigLoading`) parses and then calls this;
/// the runner reads task JSON (`tasks/active/<id>`, its hand-over) with `templates(json:)`.
public enum TaskDocument {
    /// Every task of `root`. `strict` (user configs: `run`, `inspect`, `convert`) refuses keys
    /// outside the schema; task files of a root are read like the original reads them, dropping
    /// unknown (legacy) keys.
    public static func templates(in root: ConfigValue, path: String?, strict: Bool = false) throws(ConfigError) -> [TaskTemplate] {
        let tasks: [ConfigValue]
        switch root {
        case .list(let items): tasks = items
        case .map(let members):
            if case .list(let items)? = members["tasks"], members["processes"] == nil { tasks = items } else { tasks = [root] }
        case .null: tasks = []
        default:
            throw ConfigError(.malformed, "expected a task object or a list of tasks, got \(TaskDecoder.describe(root))", file: path)
        }
        var templates: [TaskTemplate] = []
        for (index, task) in tasks.enumerated() {
            guard case .map = task else {
                let field = tasks.count > 1 || root.listValue != nil ? "[\(index)]" : nil
                throw ConfigError(.malformed, "a task must be an object, got \(TaskDecoder.describe(task))", file: path, field: field)
            }
            if strict {
                try SchemaKind.task.checkKeys(task, path: tasks.count > 1 || root.listValue != nil ? "[\(index)]" : "", file: path)
            }
            templates.append(TaskTemplate(value: task, source: path))
        }
        return templates
    }

    /// Every task of task JSON text (strict JSON: `JSONParser`).
    public static func templates(json text: String, path: String?, strict: Bool = false) throws(ConfigError) -> [TaskTemplate] {
        try templates(in: JSONParser.parse(text, file: path), path: path, strict: strict)
    }

    /// The task called `name` (by its written or default-evaluated name), or the only task,
    /// with the original's messages.
    public static func selectTask(_ templates: [TaskTemplate], named name: String?) throws(ConfigError) -> TaskTemplate {
        let file = templates.first?.source
        guard !templates.isEmpty else { throw ConfigError(.taskSelection, "No tasks specified!", file: file) }
        guard let name else {
            guard templates.count == 1 else {
                throw ConfigError(.taskSelection, "Multiple tasks in config but no task name specified!", file: file)
            }
            return templates[0]
        }
        for template in templates {
            if template.rawName == name { return template }
            if let evaluated = try? template.interpolated(context: nil).value["name"], evaluated == .string(name) {
                return template
            }
        }
        throw ConfigError(.taskSelection, "Could not find task \(name)!", file: file)
    }
}
