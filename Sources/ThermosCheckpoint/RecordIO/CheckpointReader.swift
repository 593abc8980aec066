/// A checkpoint stream read from a file: its complete records and how it ends.
public struct CheckpointStream: Sendable {
    /// One decoded record and where it starts in the file.
    public struct Entry: Sendable, Hashable {
        public var offset: Int
        public var record: RunnerCkpt
        /// The payload as stored (for byte-exact comparisons).
        public var payload: [UInt8]
    }

    public var path: String
    public var entries: [Entry]
    /// `.clean`, or the torn/oversized record that ends the file.
    public var tail: RecordFraming.Tail
    /// Bytes of complete records: the offset a writer should truncate to before appending.
    public var validLength: Int

    /// The decoded records, in stream order.
    public var records: [RunnerCkpt] { entries.map(\.record) }

    /// A one-line warning for a torn tail, nil when the stream ends cleanly.
    public var tailWarning: String? {
        switch tail {
        case .clean:
            return nil
        case .torn(let offset, let available, let expected):
            return "\(path): torn last record at byte \(offset) (\(available) of \(expected) bytes); ignored"
        case .oversized(let offset, let length):
            return "\(path): record at byte \(offset) announces \(length) bytes, over the 64 MiB limit; stream is corrupt from there"
        }
    }
}

/// Reads whole checkpoint files.
public enum CheckpointReader {
    /// Reads and decodes every complete record of `path`. A torn last record is reported in
    /// `tail`, not thrown; an undecodable complete record or an oversized length throws,
    /// naming the file and the byte offset.
    public static func read(path: String) throws(CheckpointError) -> CheckpointStream {
        try decode(FileIO.read(path: path), path: path)
    }

    /// Decodes a stream already in memory.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws(CheckpointError) -> CheckpointStream {
        let (records, tail) = RecordFraming.split(bytes)
        if case .oversized(let offset, let length) = tail {
            throw CheckpointError(
                .recordTooLarge, "record announces \(length) bytes, over the 64 MiB RecordIO limit",
                path: path, offset: offset)
        }
        var entries: [CheckpointStream.Entry] = []
        entries.reserveCapacity(records.count)
        for record in records {
            do {
                let decoded = try RunnerCkpt(thriftPayload: record.payload)
                entries.append(.init(offset: record.offset, record: decoded, payload: record.payload))
            } catch {
                throw error.located(path: path, offset: record.offset)
            }
        }
        let validLength = records.last.map { $0.offset + RecordFraming.headerSize + $0.payload.count } ?? 0
        return CheckpointStream(path: path, entries: entries, tail: tail, validLength: validLength)
    }
}

/// Follows a growing checkpoint file from a byte offset, returning only complete records and
/// never re-reading what it has already returned. A partial record at the end is left for the
/// next call (the writer may still be writing it).
public struct CheckpointTailer: Sendable {
    public let path: String
    /// Offset of the first byte not yet consumed.
    public private(set) var offset: Int

    public init(path: String, offset: Int = 0) {
        self.path = path
        self.offset = offset
    }

    /// The records completed since the last call. A missing file yields no records.
    public mutating func poll() throws(CheckpointError) -> [RunnerCkpt] {
        guard FileIO.exists(path) else { return [] }
        let bytes = try FileIO.read(path: path, from: offset)
        let (records, tail) = RecordFraming.split(bytes, baseOffset: offset)
        if case .oversized(let at, let length) = tail {
            throw CheckpointError(
                .recordTooLarge, "record announces \(length) bytes, over the 64 MiB RecordIO limit",
                path: path, offset: at)
        }
        var decoded: [RunnerCkpt] = []
        for record in records {
            do {
                decoded.append(try RunnerCkpt(thriftPayload: record.payload))
            } catch {
                throw error.located(path: path, offset: record.offset)
            }
            offset = record.offset + RecordFraming.headerSize + record.payload.count
        }
        return decoded
    }
}
