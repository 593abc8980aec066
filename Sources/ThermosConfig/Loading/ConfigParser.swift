import OrderedCollections
import Yams

/// Parses JSON and YAML text into `ConfigValue` trees, keeping key order. JSON is parsed as
/// YAML flow syntax by libyaml (through Yams), so both formats share one parser and one
/// error style (line and column).
enum ConfigParser {
    static func parse(_ text: String, file: String?) throws(ConfigError) -> ConfigValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(.malformed, Self.describe(error), file: file)
        } catch {
            throw ConfigError(.malformed, "cannot parse: \(error)", file: file)
        }
        guard let node else { return .null }
        return try convert(node, file: file, path: "")
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

    private static func convert(_ node: Node, file: String?, path: String) throws(ConfigError) -> ConfigValue {
        switch node {
        case .scalar(let scalar):
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
            var members: OrderedDictionary<String, ConfigValue> = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ConfigError(.malformed, "keys must be strings", file: file, field: path.isEmpty ? nil : path)
                }
                let childPath = path.isEmpty ? keyScalar.string : "\(path).\(keyScalar.string)"
                members[keyScalar.string] = try convert(value, file: file, path: childPath)
            }
            return .map(members)
        case .sequence(let sequence):
            var items: [ConfigValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, file: file, path: "\(path)[\(index)]"))
            }
            return .list(items)
        case .alias:
            throw ConfigError(.malformed, "YAML aliases are not supported", file: file, field: path.isEmpty ? nil : path)
        }
    }
}
