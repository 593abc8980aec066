import Foundation
import OrderedCollections

/// Loads task configurations: Aurora task JSON (`.json` and extension-less task files such as
/// `tasks/finished/<id>`), and YAML (`.yaml`/`.yml`) with the same structure. A file holds one
/// task (an object), or several (a list, or `{"tasks": [...]}`).
public enum ConfigLoader {
    /// The file formats understood.
    public enum Format: Sendable {
        case json, yaml

        /// The format of `path` by its extension; nil for `.thermos`/`.aurora` (the Python DSL).
        static func of(_ path: String) -> Format? {
            let lower = path.lowercased()
            if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") { return .yaml }
            if DSLKind.of(path) != nil { return nil }
            return .json
        }
    }

    /// Every task of the file at `path`. `strict` (user configs: `run`, `inspect`, `convert`)
    /// refuses keys outside the schema; task files of a root are read like the original reads
    /// them, dropping unknown (legacy) keys.
    public static func loadTemplates(path: String, strict: Bool = false) throws(ConfigError) -> [TaskTemplate] {
        guard Format.of(path) != nil else {
            throw ConfigError(
                .malformed,
                "a Python DSL config (.thermos/.aurora) is loaded by thermos run/inspect/convert, not here; give task JSON or YAML",
                file: path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? "\((error as NSError).localizedDescription)"
            throw ConfigError(.unreadable, "cannot read: \(reason)", file: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(.malformed, "not UTF-8 text", file: path)
        }
        return try loadTemplates(text: text, path: path, strict: strict)
    }

    /// Every task in `text` (JSON or YAML; JSON is valid YAML flow syntax here).
    public static func loadTemplates(text: String, path: String? = nil, strict: Bool = false) throws(ConfigError) -> [TaskTemplate] {
        let root = try ConfigParser.parse(text, file: path)
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
