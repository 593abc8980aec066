/// Reads TBinaryProtocol values from a byte buffer. Every read checks bounds and throws
/// `CheckpointError` (never traps), so arbitrary bytes are safe to decode.
struct ThriftReader {
    /// Containers and strings larger than this are rejected as malformed (a record is at most 64 MiB).
    static let maximumLength = 64 * 1024 * 1024
    /// Deeper nesting than this is rejected as malformed (our structs nest two levels).
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private(set) var position: Int

    init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    private mutating func take(_ count: Int) throws(CheckpointError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw CheckpointError(
                .truncatedPayload, "Thrift payload ends early: needed \(count) more bytes at offset \(position)")
        }
        let slice = bytes[position..<position + count]
        position += count
        return slice
    }

    mutating func readByte() throws(CheckpointError) -> UInt8 {
        try take(1).first!
    }

    private mutating func readBigEndian(_ width: Int) throws(CheckpointError) -> UInt64 {
        var value: UInt64 = 0
        for byte in try take(width) {
            value = value << 8 | UInt64(byte)
        }
        return value
    }

    mutating func readI16() throws(CheckpointError) -> Int16 {
        Int16(bitPattern: UInt16(truncatingIfNeeded: try readBigEndian(2)))
    }

    mutating func readI32() throws(CheckpointError) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: try readBigEndian(4)))
    }

    mutating func readI64() throws(CheckpointError) -> Int64 {
        Int64(bitPattern: try readBigEndian(8))
    }

    mutating func readDouble() throws(CheckpointError) -> Double {
        Double(bitPattern: try readBigEndian(8))
    }

    private mutating func readLength() throws(CheckpointError) -> Int {
        let length = Int(try readI32())
        guard length >= 0, length <= Self.maximumLength else {
            throw CheckpointError(.malformedPayload, "invalid Thrift length \(length) at offset \(position - 4)")
        }
        return length
    }

    mutating func readString() throws(CheckpointError) -> String {
        let utf8 = try take(try readLength())
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Reads a field header; nil at the STOP marker.
    mutating func readFieldHeader() throws(CheckpointError) -> (type: UInt8, id: Int16)? {
        let type = try readByte()
        if type == ThriftType.stop.rawValue { return nil }
        return (type, try readI16())
    }

    /// Reads a map header `(key type, value type, count)`.
    mutating func readMapHeader() throws(CheckpointError) -> (key: UInt8, value: UInt8, count: Int) {
        let key = try readByte()
        let value = try readByte()
        return (key, value, try readLength())
    }

    /// Skips one value of wire type `type`, as Thrift readers skip unknown fields.
    mutating func skip(type: UInt8, depth: Int = 0) throws(CheckpointError) {
        guard depth < Self.maximumDepth else {
            throw CheckpointError(.malformedPayload, "Thrift value nested deeper than \(Self.maximumDepth) levels")
        }
        guard let known = ThriftType(rawValue: type) else {
            throw CheckpointError(.malformedPayload, "unknown Thrift type \(type) at offset \(position)")
        }
        switch known {
        case .stop:
            throw CheckpointError(.malformedPayload, "unexpected Thrift STOP at offset \(position)")
        case .bool, .byte: _ = try take(1)
        case .i16: _ = try take(2)
        case .i32: _ = try take(4)
        case .i64, .double: _ = try take(8)
        case .string: _ = try take(try readLength())
        case .structure:
            while let field = try readFieldHeader() {
                try skip(type: field.type, depth: depth + 1)
            }
        case .map:
            let header = try readMapHeader()
            for _ in 0..<header.count {
                try skip(type: header.key, depth: depth + 1)
                try skip(type: header.value, depth: depth + 1)
            }
        case .set, .list:
            let element = try readByte()
            let count = try readLength()
            for _ in 0..<count {
                try skip(type: element, depth: depth + 1)
            }
        }
    }

    /// Reads a field of the expected type, or skips it (and returns nil) when the wire type differs,
    /// as generated Thrift code does.
    mutating func expect<T>(
        _ expected: ThriftType, actual: UInt8, _ read: (inout ThriftReader) throws(CheckpointError) -> T
    ) throws(CheckpointError) -> T? {
        guard actual == expected.rawValue else {
            try skip(type: actual)
            return nil
        }
        return try read(&self)
    }
}
