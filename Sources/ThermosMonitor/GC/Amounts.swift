/// A `gc` flag value that could not be parsed.
public struct AmountError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which kind of amount was wrong.
    public struct Code: Sendable, Hashable {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// Not `XdYhZmWs`.
        public static let invalidTime = Code("invalidTime")
        /// Not bytes with an optional k/m/g/t suffix.
        public static let invalidData = Code("invalidData")
    }

    public var code: Code
    public var message: String
    public var description: String { message }
}

/// The original's `parse_time` and `parse_data`.
public enum Amounts {
    /// Seconds of `XdYhZmWs` (any subset, in that order, e.g. `2d5h`, `7200s`, `90m`); a bare
    /// number is seconds.
    public static func parseTime(_ text: String) throws(AmountError) -> Int64 {
        let invalid = AmountError(code: .invalidTime, message: "Invalid time: \(text) (expected e.g. 2d5h, 90m, 7200s)")
        let lower = text.lowercased()
        if let seconds = Int64(lower), seconds >= 0 { return seconds }
        var total: Int64 = 0
        var digits = ""
        var lastUnit = -1
        let units: [Character: (order: Int, seconds: Int64)] = ["d": (0, 86400), "h": (1, 3600), "m": (2, 60), "s": (3, 1)]
        for character in lower {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if let unit = units[character], let value = Int64(digits), unit.order > lastUnit {
                total += value * unit.seconds
                lastUnit = unit.order
                digits = ""
            } else {
                throw invalid
            }
        }
        guard digits.isEmpty, lastUnit >= 0 else { throw invalid }
        return total
    }

    /// Bytes of an integer with an optional `k`/`kb`/`m`/`mb`/`g`/`gb`/`t`/`tb` suffix
    /// (case-insensitive, powers of 1024).
    public static func parseData(_ text: String) throws(AmountError) -> Int64 {
        let lower = text.lowercased()
        let suffixes: [(String, Int64)] = [
            ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("tb", 1 << 40),
            ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1),
        ]
        for (suffix, scale) in suffixes where lower.hasSuffix(suffix) {
            if let value = Int64(lower.dropLast(suffix.count)), value >= 0 { return value * scale }
            break
        }
        if let value = Int64(lower), value >= 0 { return value }
        throw AmountError(code: .invalidData, message: "Invalid data size: \(text) (expected e.g. 500m, 2g, 1048576)")
    }
}
