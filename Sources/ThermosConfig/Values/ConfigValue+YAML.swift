import OrderedCollections

/// Block-style YAML for a value tree: what `thermos convert --format yaml` prints. Strings are
/// always double-quoted (JSON escapes are valid YAML escapes), so `"true"`, `"5"` and `"null"`
/// stay strings, and every float keeps a `.` so it reads back as a float.
extension ConfigValue {
    public func yamlText() -> String {
        var out = ""
        writeYAML(into: &out, indent: 0, inList: false)
        return out
    }

    private var isEmptyContainer: Bool {
        switch self {
        case .list(let items): items.isEmpty
        case .map(let members): members.isEmpty
        default: false
        }
    }

    private var isScalarLike: Bool {
        switch self {
        case .list, .map: isEmptyContainer
        default: true
        }
    }

    private var yamlScalar: String {
        switch self {
        case .string: jsonText()
        case .integer(let value): String(value)
        case .double(let value):
            if value.isNaN { ".nan" } else if value.isInfinite { value > 0 ? ".inf" : "-.inf" } else { Self.yamlFloat(value) }
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        case .list: "[]"
        case .map: "{}"
        }
    }

    private static func yamlFloat(_ value: Double) -> String {
        let text = pythonFloat(value)
        guard !text.contains(".") else { return text }
        if let exponent = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            return text[..<exponent] + ".0" + text[exponent...]
        }
        return text + ".0"
    }

    private static func yamlKey(_ key: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
        return plain && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(key.lowercased()) ? key : ConfigValue.string(key).jsonText()
    }

    private func writeYAML(into out: inout String, indent: Int, inList: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let members) where !members.isEmpty:
            var first = true
            for (key, member) in members {
                out += (first && inList ? "" : pad) + Self.yamlKey(key) + ":"
                first = false
                if member.isScalarLike {
                    out += " " + member.yamlScalar + "\n"
                } else {
                    out += "\n"
                    member.writeYAML(into: &out, indent: indent + 2, inList: false)
                }
            }
        case .list(let items) where !items.isEmpty:
            for item in items {
                out += pad + "- "
                if item.isScalarLike {
                    out += item.yamlScalar + "\n"
                } else if case .list = item {
                    out += "\n"
                    item.writeYAML(into: &out, indent: indent + 2, inList: false)
                } else {
                    item.writeYAML(into: &out, indent: indent + 2, inList: true)
                }
            }
        default:
            out += pad + yamlScalar + "\n"
        }
    }
}
