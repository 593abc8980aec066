public import OrderedCollections

/// A configuration value tree that keeps key order: what JSON/YAML files load into, what
/// templating works on, and what task JSON is written from.
public enum ConfigValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case list([ConfigValue])
    case map(OrderedDictionary<String, ConfigValue>)
    case null

    /// The members of a map (nil for other values).
    public var mapValue: OrderedDictionary<String, ConfigValue>? {
        if case .map(let map) = self { return map }
        return nil
    }

    /// The elements of a list (nil for other values).
    public var listValue: [ConfigValue]? {
        if case .list(let list) = self { return list }
        return nil
    }

    /// A member of a map.
    public subscript(key: String) -> ConfigValue? {
        mapValue?[key]
    }

    /// The text a scalar interpolates to (`True`, `5`, `0.1` like Python's `str`);
    /// containers render as compact JSON.
    public var interpolationText: String {
        switch self {
        case .string(let text): text
        case .integer(let value): String(value)
        case .double(let value): Self.pythonFloat(value)
        case .bool(let value): value ? "True" : "False"
        case .null: "None"
        case .list, .map: jsonText()
        }
    }

    /// Python's `repr` of a float: Swift's shortest round-trip digits match it (`0.1`, `1.0`, `1e+16`).
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return "\(value)"
    }

    /// Single-line JSON like Python's `json.dumps`: `{"a": 1, "b": [true, null]}`.
    public func jsonText() -> String {
        var out = ""
        writeJSON(into: &out, indent: nil, level: 0, sortKeys: false)
        return out
    }

    /// Indented JSON with sorted keys, for people to read.
    public func prettyJSONText() -> String {
        var out = ""
        writeJSON(into: &out, indent: "  ", level: 0, sortKeys: true)
        return out
    }

    private func writeJSON(into out: inout String, indent: String?, level: Int, sortKeys: Bool) {
        let newline = indent.map { "\n" + String(repeating: $0, count: level + 1) } ?? ""
        let closing = indent.map { "\n" + String(repeating: $0, count: level) } ?? ""
        switch self {
        case .string(let text): Self.writeJSONString(text, into: &out)
        case .integer(let value): out += String(value)
        case .double(let value): out += Self.pythonFloat(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .list(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                out += (index > 0 ? (indent == nil ? ", " : ",") : "") + newline
                item.writeJSON(into: &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            out += closing + "]"
        case .map(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            let keys = sortKeys ? members.keys.sorted() : Array(members.keys)
            for (index, key) in keys.enumerated() {
                out += (index > 0 ? (indent == nil ? ", " : ",") : "") + newline
                Self.writeJSONString(key, into: &out)
                out += ": "
                members[key]!.writeJSON(into: &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            out += closing + "}"
        }
    }

    private static func writeJSONString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value > 0x7E {
                    // Python's json.dumps escapes non-ASCII by default (ensure_ascii).
                    for unit in String(scalar).utf16 {
                        let hex = String(unit, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
