/// RecordIO framing as used by Thermos (twitter.common.recordio): a 4-byte big-endian unsigned
/// length, then that many payload bytes. Pure functions over bytes; file access is elsewhere.
public enum RecordFraming {
    /// Size of the length prefix.
    public static let headerSize = 4
    /// Largest payload accepted or written: 64 MiB.
    public static let maximumRecordSize = 64 * 1024 * 1024

    /// The length prefix followed by `payload`.
    public static func frame(_ payload: [UInt8]) throws(CheckpointError) -> [UInt8] {
        guard payload.count <= maximumRecordSize else {
            throw CheckpointError(
                .recordTooLarge,
                "record of \(payload.count) bytes exceeds the 64 MiB RecordIO limit (\(maximumRecordSize) bytes)")
        }
        let length = UInt32(payload.count)
        var framed: [UInt8] = [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
        framed.append(contentsOf: payload)
        return framed
    }

    /// One complete record found in a buffer.
    public struct Record: Sendable, Hashable {
        /// Offset of the length prefix, relative to the start of the stream.
        public var offset: Int
        public var payload: [UInt8]
    }

    /// How a buffer ends after its complete records.
    public enum Tail: Sendable, Hashable {
        /// Nothing left over.
        case clean
        /// A record starts at `offset` but only `available` of its `expected` bytes (prefix
        /// included) are present: a crash mid-write, or a writer still writing.
        case torn(offset: Int, available: Int, expected: Int)
        /// The record at `offset` announces `length` bytes, above the 64 MiB limit: corrupt.
        case oversized(offset: Int, length: Int)
    }

    /// The complete records of `bytes` and how it ends. `baseOffset` is the stream offset of `bytes[0]`.
    public static func split(_ bytes: [UInt8], baseOffset: Int = 0) -> (records: [Record], tail: Tail) {
        var records: [Record] = []
        var position = 0
        while position < bytes.count {
            let available = bytes.count - position
            guard available >= headerSize else {
                return (records, .torn(offset: baseOffset + position, available: available, expected: headerSize))
            }
            var length = 0
            for byte in bytes[position..<position + headerSize] {
                length = length << 8 | Int(byte)
            }
            guard length <= maximumRecordSize else {
                return (records, .oversized(offset: baseOffset + position, length: length))
            }
            guard available >= headerSize + length else {
                return (
                    records, .torn(offset: baseOffset + position, available: available, expected: headerSize + length)
                )
            }
            let start = position + headerSize
            records.append(Record(offset: baseOffset + position, payload: Array(bytes[start..<start + length])))
            position = start + length
        }
        return (records, .clean)
    }
}
