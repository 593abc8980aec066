import OrderedCollections
import ThermosConfig
import Yams

/// Parses JSON and YAML text into `ConfigValue` trees, keeping key order. JSON is parsed as
/// YAML flow syntax by libyaml (through Yams), so both formats share one parser and one
/// error style (line and column).
///
/// libyaml resolves an alias to the node its anchor names, so a few hundred bytes of nested
/// aliases (a "billion laughs" bomb) describe a tree of billions of values. The conversion
/// counts every value and every scalar byte it produces, aliases expanded, and stops at
/// `Limits` — long before the tree would take noticeable time or memory.
enum ConfigParser {
    /// Bounds on the expanded tree of one document.
    struct Limits: Sendable {
        /// Values (scalars, lists, maps) after alias expansion. A task with a thousand processes
        /// has about 12,000.
        var maximumValues = 200_000
        /// Bytes of scalar text after alias expansion.
        var maximumScalarBytes = 32 << 20
    }

    static func parse(_ text: String, file: String?, limits: Limits = Limits()) throws(ConfigError) -> ConfigValue {
        // Valid JSON takes the strict Foundation-free parser: libyaml's resolver compiles its
        // regular expressions (ICU) on first use, the largest cost of loading a JSON task. Any
        // text it refuses (YAML, JSON with YAML-isms, or malformed) goes through libyaml below,
        // so YAML's reading and the error messages (line and column) stay the same.
        if looksLikeJSON(text), let value = try? JSONParser.parse(text, file: file) {
            var budget = Budget(limits: limits, usesAliases: false)
            try count(value, file: file, path: "", budget: &budget)
            return value
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(.malformed, Self.describe(error), file: file)
        } catch {
            throw ConfigError(.malformed, "cannot parse: \(error)", file: file)
        }
        guard let node else { return .null }
        var budget = Budget(limits: limits, usesAliases: text.contains("*"))
        return try convert(node, file: file, path: "", budget: &budget)
    }

    /// Text whose first non-blank character opens a JSON object or array.
    private static func looksLikeJSON(_ text: String) -> Bool {
        guard let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return false }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// Charges a parsed JSON tree to the budget, as the conversion of a libyaml tree does.
    private static func count(_ value: ConfigValue, file: String?, path: String, budget: inout Budget) throws(ConfigError) {
        switch value {
        case .string(let text): try budget.spend(scalar: text.utf8.count, file: file, path: path)
        case .map(let members):
            try budget.spend(scalar: 0, file: file, path: path)
            for (key, member) in members {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                try budget.spend(scalar: key.utf8.count, file: file, path: childPath)
                try count(member, file: file, path: childPath, budget: &budget)
            }
        case .list(let items):
            try budget.spend(scalar: 0, file: file, path: path)
            for (index, item) in items.enumerated() { try count(item, file: file, path: "\(path)[\(index)]", budget: &budget) }
        default: try budget.spend(scalar: 0, file: file, path: path)
        }
    }

    /// What is left of `Limits` while converting.
    private struct Budget {
        var values: Int
        var scalarBytes: Int
        let limits: Limits
        let usesAliases: Bool

        init(limits: Limits, usesAliases: Bool) {
            self.limits = limits
            self.values = limits.maximumValues
            self.scalarBytes = limits.maximumScalarBytes
            self.usesAliases = usesAliases
        }

        mutating func spend(scalar: Int, file: String?, path: String) throws(ConfigError) {
            values -= 1
            scalarBytes -= scalar
            guard values < 0 || scalarBytes < 0 else { return }
            let what = values < 0 ? "more than \(limits.maximumValues) values" : "more than \(limits.maximumScalarBytes >> 20) MiB of text"
            let cause = usesAliases ? "its YAML aliases expand to \(what) (an alias bomb?)" : "it holds \(what)"
            throw ConfigError(.malformed, "refused: \(cause); a task config is far smaller", file: file, field: path.isEmpty ? nil : path)
        }
    }

    /// A plain `<<` key (libyaml's resolver tags it as a merge; a quoted "<<" is an ordinary key).
    private static func isMergeKey(_ key: Node) -> Bool {
        key.tag.rawValue == Tag.Name.merge.rawValue
    }

    /// A YAML merge key (`<<: *defaults`, or `<<: [*a, *b]`): the keys of the merged mappings
    /// that `members` does not set itself, an earlier mapping winning over a later one (YAML's
    /// merge type). Merged values count against the same budget as any other value.
    private static func merge(
        _ source: Node, into members: inout OrderedDictionary<String, ConfigValue>, file: String?, path: String,
        budget: inout Budget
    ) throws(ConfigError) {
        let field = path.isEmpty ? "<<" : "\(path).<<"
        let sources: [Node]
        switch source {
        case .mapping: sources = [source]
        case .sequence(let sequence): sources = Array(sequence)
        default: sources = []
        }
        guard !sources.isEmpty, sources.allSatisfy({ $0.mapping != nil }) else {
            throw ConfigError(.malformed, "a merge key takes a mapping or a list of mappings (<<: *anchor)", file: file, field: field)
        }
        for mapping in sources {
            guard case .map(let merged) = try convert(mapping, file: file, path: path, budget: &budget) else { continue }
            for (key, value) in merged where members[key] == nil {
                members[key] = value
            }
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let where_ = "line \(mark.line), column \(mark.column)"
            return "not valid JSON/YAML at \(where_): \(problem)" + (context.map { " (\($0.text))" } ?? "")
        default:
            return "not valid JSON/YAML: \(String(describing: error).split(separator: "\n").first ?? "")"
        }
    }

    private static func convert(_ node: Node, file: String?, path: String, budget: inout Budget) throws(ConfigError) -> ConfigValue {
        switch node {
        case .scalar(let scalar):
            try budget.spend(scalar: scalar.string.utf8.count, file: file, path: path)
            if scalar.style != .plain { return .string(scalar.string) }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(ConfigValue.bool) ?? .string(scalar.string)
            case .int:
                if let value = Int64(scalar.string) { return .integer(value) }
                return node.int.map { .integer(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(ConfigValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            try budget.spend(scalar: 0, file: file, path: path)
            var members: OrderedDictionary<String, ConfigValue> = [:]
            for (key, value) in mapping where !isMergeKey(key) {
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigError(.malformed, "keys must be strings", file: file, field: path.isEmpty ? nil : path)
                }
                let childPath = path.isEmpty ? keyScalar.string : "\(path).\(keyScalar.string)"
                try budget.spend(scalar: keyScalar.string.utf8.count, file: file, path: childPath)
                members[keyScalar.string] = try convert(value, file: file, path: childPath, budget: &budget)
            }
            for (key, value) in mapping where isMergeKey(key) {
                try merge(value, into: &members, file: file, path: path, budget: &budget)
            }
            return .map(members)
        case .sequence(let sequence):
            try budget.spend(scalar: 0, file: file, path: path)
            var items: [ConfigValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, file: file, path: "\(path)[\(index)]", budget: &budget))
            }
            return .list(items)
        case .alias:
            throw ConfigError(.malformed, "YAML aliases are not supported", file: file, field: path.isEmpty ? nil : path)
        }
    }
}
