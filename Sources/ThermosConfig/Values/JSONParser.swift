import OrderedCollections

/// A strict JSON parser (RFC 8259) into `ConfigValue`, keeping key order, with no Foundation and
/// no libyaml: what the runner reads its task from (`thermos-runner`'s hand-over and
/// `tasks/active/<id>`). It reads back everything `ConfigValue.jsonText()` writes: numbers
/// without a fraction or exponent are integers, others doubles, and Python's `NaN`, `Infinity`
/// and `-Infinity` (which `json.dumps` writes for non-finite floats) are accepted as doubles.
///
/// Anything else — trailing commas, comments, single quotes, control characters in strings,
/// lone surrogates, an integer outside Int64, a duplicate key, text after the value, nesting
/// deeper than `maximumDepth` — is a `ConfigError` (`.malformed`) naming the byte offset.
public struct JSONParser {
    /// Containers nested deeper than this are refused (the parser recurses; a task is shallow).
    public static let maximumDepth = 256

    private let bytes: [UInt8]
    private let file: String?
    private var index = 0
    private var depth = 0

    private init(bytes: [UInt8], file: String?) {
        self.bytes = bytes
        self.file = file
    }

    /// Parses one JSON document (whitespace around it allowed).
    public static func parse(_ text: String, file: String? = nil) throws(ConfigError) -> ConfigValue {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses one JSON document of UTF-8 bytes.
    public static func parse(bytes: [UInt8], file: String? = nil) throws(ConfigError) -> ConfigValue {
        var parser = JSONParser(bytes: bytes, file: file)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(ConfigError) -> ConfigValue {
        guard let byte = peek() else { throw error("unexpected end of JSON text") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "N"): try expectWord("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectWord("Infinity"); return .double(.infinity)
        case UInt8(ascii: "-") where bytes.count > index + 1 && bytes[index + 1] == UInt8(ascii: "I"):
            index += 1
            try expectWord("Infinity")
            return .double(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private mutating func parseObject() throws(ConfigError) -> ConfigValue {
        try enter()
        index += 1
        var members: OrderedDictionary<String, ConfigValue> = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .map(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            guard members.updateValue(value, forKey: key) == nil else {
                throw error("duplicate key \"\(key)\"", at: keyOffset)
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .map(members)
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(ConfigError) -> ConfigValue {
        try enter()
        index += 1
        var items: [ConfigValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .list(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .list(items)
            default: throw error("expected ',' or ']' in a list")
            }
        }
    }

    private mutating func enter() throws(ConfigError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nested deeper than \(Self.maximumDepth) levels") }
    }

    // MARK: - Scalars

    private mutating func parseNumber() throws(ConfigError) -> ConfigValue {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw error("expected a digit") }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let digit = peek(), isDigit(digit) else { throw error("expected a digit after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), isDigit(digit) else { throw error("expected a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger {
            guard let value = Int64(text) else { throw error("integer \(text) is out of range", at: start) }
            return .integer(value)
        }
        guard let value = Double(text) else { throw error("invalid number \(text)", at: start) }
        return .double(value)
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func parseString() throws(ConfigError) -> String {
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                // Invalid UTF-8 in the input is refused rather than repaired.
                guard let text = String(validating: utf8, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw error("a control character in a string must be escaped")
            default:
                utf8.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(ConfigError) {
        guard let byte = peek() else { throw error("unterminated escape") }
        index += 1
        let simple: UInt8? =
            switch byte {
            case UInt8(ascii: "\""): UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): UInt8(ascii: "\\")
            case UInt8(ascii: "/"): UInt8(ascii: "/")
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "t"): 0x09
            default: nil
            }
        if let simple {
            utf8.append(simple)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw error("invalid escape '\\\(Character(Unicode.Scalar(byte)))'") }
        var code = UInt32(try parseHex4())
        if (0xD800..<0xDC00).contains(code) {
            guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("a high surrogate must be followed by a low one")
            }
            index += 2
            let low = UInt32(try parseHex4())
            guard (0xDC00..<0xE000).contains(low) else { throw error("a high surrogate must be followed by a low one") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
            throw error("a lone low surrogate")
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point") }
        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func parseHex4() throws(ConfigError) -> UInt16 {
        guard index + 4 <= bytes.count, let value = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw error("\\u needs four hex digits")
        }
        index += 4
        return value
    }

    private mutating func expectWord(_ word: String) throws(ConfigError) {
        let utf8 = Array(word.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
            throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
        index += utf8.count
    }

    // MARK: - Helpers

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private func error(_ message: String, at offset: Int? = nil) -> ConfigError {
        ConfigError(.malformed, "not valid JSON at byte \(offset ?? index): \(message)", file: file)
    }
}
