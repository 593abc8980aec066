import Foundation
public import ThermosConfig

/// Loads task configuration files (the Foundation and Yams side of `ThermosConfig`, which the
/// runner does not link): Aurora task JSON (`.json` and extension-less task files such as
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
        try TaskDocument.templates(in: ConfigParser.parse(text, file: path), path: path, strict: strict)
    }

    /// The task called `name` (by its written or default-evaluated name), or the only task,
    /// with the original's messages (`TaskDocument.selectTask`).
    public static func selectTask(_ templates: [TaskTemplate], named name: String?) throws(ConfigError) -> TaskTemplate {
        try TaskDocument.selectTask(templates, named: name)
    }
}
