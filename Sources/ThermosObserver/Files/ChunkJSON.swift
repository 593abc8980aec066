/// The chunk protocol of `/logdata` and `/filedata` (reference §4.4) encoded straight to bytes:
/// `{"offset": O, "length": L, "data": "…"}` where the data is the file's bytes decoded as UTF-8
/// (invalid sequences → U+FFFD), XML-escaped (`&`, `<`, `>`) and JSON-escaped like Python's
/// `json.dumps` (non-ASCII as `\uXXXX`), byte for byte what `ConfigValue.jsonText()` prints.
public enum ChunkJSON {
    /// What a request asks of a file of `size` bytes.
    public enum Plan: Sendable, Hashable {
        /// `{"offset": O, "length": 0}`: at or past the end, or an empty range.
        case empty(offset: Int64)
        /// `length` bytes from `offset`.
        case data(offset: Int64, length: Int64)
    }

    /// `offset`/`length` as strings (default -1): -1 offset = the file size, -1 length = to the
    /// end, negative offsets otherwise clamp to 0, lengths to `0…maximum`. Nil for non-numbers.
    /// All arithmetic saturates: no input can overflow.
    public static func plan(offset offsetText: String?, length lengthText: String?, size: Int64, maximum: Int64) -> Plan? {
        guard let offsetValue = Int64(offsetText ?? "-1"), let lengthValue = Int64(lengthText ?? "-1") else { return nil }
        let offset = offsetValue == -1 ? size : max(0, offsetValue)
        guard offset < size else { return .empty(offset: offset) }
        let remaining = size - offset
        let wanted = lengthValue == -1 ? remaining : max(0, lengthValue)
        let length = min(wanted, maximum, remaining)
        return length > 0 ? .data(offset: offset, length: length) : .empty(offset: offset)
    }

    /// `{"offset": O, "length": 0}`.
    public static func empty(offset: Int64) -> [UInt8] {
        Array(#"{"offset": \#(offset), "length": 0}"#.utf8)
    }

    /// Everything before the escaped data.
    public static func head(offset: Int64, length: Int64) -> [UInt8] {
        Array(#"{"offset": \#(offset), "length": \#(length), "data": ""#.utf8)
    }

    /// Everything after it.
    public static let tail: [UInt8] = Array(#""}"#.utf8)

    /// The number of bytes at the end of `bytes` that begin a UTF-8 sequence they do not
    /// complete (0–3): kept for the next slice when a file is encoded in pieces.
    public static func incompleteTail(_ bytes: [UInt8]) -> Int {
        var index = bytes.count - 1
        var seen = 0
        while index >= 0, seen < 3 {
            let byte = bytes[index]
            seen += 1
            if byte & 0xC0 == 0x80 { index -= 1; continue }  // continuation byte
            let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return needed > seen ? seen : 0
        }
        return 0
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `bytes` escaped for the `data` field.
    public static func appendEscaped(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) {
        let ascii = bytes.withContiguousStorageIfAvailable { source -> Bool in
            guard !source.contains(where: { $0 >= 0x80 }) else { return false }
            escapeASCII(source, into: &out)
            return true
        }
        if ascii == true { return }
        if ascii == nil, bytes.allSatisfy({ $0 < 0x80 }) {
            Array(bytes).withUnsafeBufferPointer { escapeASCII($0, into: &out) }
            return
        }
        out.reserveCapacity(out.count + bytes.count + bytes.count / 8 + 16)
        let text = String(decoding: bytes, as: UTF8.self)
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 {
                appendASCII(UInt8(scalar.value), into: &out)
            } else {
                for unit in String(scalar).utf16 { appendUnicodeEscape(unit, into: &out) }
            }
        }
    }

    /// Per ASCII byte, 8 table bytes: the escape's length (0: the byte itself), then the escape.
    private static let asciiTable: [UInt8] = (0..<128).flatMap { value -> [UInt8] in
        var escaped: [UInt8] = []
        appendASCII(UInt8(value), into: &escaped)
        let entry: [UInt8] = escaped == [UInt8(value)] ? [] : escaped
        return [UInt8(entry.count)] + entry + [UInt8](repeating: 0, count: 7 - entry.count)
    }

    /// The ASCII fast path: one pass through a table into a buffer sized for the worst case.
    private static func escapeASCII(_ source: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let escaped = [UInt8](unsafeUninitializedCapacity: source.count &* 6) { target, count in
            asciiTable.withUnsafeBufferPointer { table in
                var written = 0
                for byte in source {
                    let base = Int(byte) &* 8
                    let length = Int(table[base])
                    if length == 0 {
                        target[written] = byte
                        written &+= 1
                    } else {
                        for index in 0..<length { target[written &+ index] = table[base &+ 1 &+ index] }
                        written &+= length
                    }
                }
                count = written
            }
        }
        out.append(contentsOf: escaped)
    }

    @inline(__always)
    private static func appendASCII(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "&"): out.append(contentsOf: [0x26, 0x61, 0x6D, 0x70, 0x3B])  // &amp;
        case UInt8(ascii: "<"): out.append(contentsOf: [0x26, 0x6C, 0x74, 0x3B])  // &lt;
        case UInt8(ascii: ">"): out.append(contentsOf: [0x26, 0x67, 0x74, 0x3B])  // &gt;
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0x20...0x7E: out.append(byte)
        default: appendUnicodeEscape(UInt16(byte), into: &out)
        }
    }

    @inline(__always)
    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(contentsOf: [
            0x5C, UInt8(ascii: "u"), hex[Int(unit >> 12) & 15], hex[Int(unit >> 8) & 15], hex[Int(unit >> 4) & 15], hex[Int(unit) & 15],
        ])
    }

    /// A whole chunk response body for bytes already read.
    public static func encode(offset: Int64, bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return empty(offset: offset) }
        var out = head(offset: offset, length: Int64(bytes.count))
        appendEscaped(bytes, into: &out)
        out.append(contentsOf: tail)
        return out
    }
}
