import Glibc

/// Which output stream of a run a log line comes from.
public enum LogStream: Int, Sendable, Hashable, CaseIterable {
    case stdout
    case stderr

    /// The file name in a run's log directory.
    public var fileName: String {
        switch self {
        case .stdout: "stdout"
        case .stderr: "stderr"
        }
    }
}

/// One line of a process's output, without its newline. A line longer than the follower's cap
/// arrives in pieces of at most the cap; a last line without a newline arrives when its run ends.
public struct LogLine: Sendable, Hashable {
    public var process: String
    public var run: Int
    public var stream: LogStream
    /// The line's bytes (a slice of the reader's buffer: copy it to keep it).
    public var bytes: ArraySlice<UInt8>

    public init(process: String, run: Int, stream: LogStream, bytes: ArraySlice<UInt8>) {
        self.process = process
        self.run = run
        self.stream = stream
        self.bytes = bytes
    }

    public init(process: String, run: Int, stream: LogStream, bytes: [UInt8]) {
        self.init(process: process, run: run, stream: stream, bytes: bytes[...])
    }
}

/// One log file being followed: its descriptor, how far it was read, and the partial last line
/// (bounded by `maxLineBytes`: longer lines are passed on in pieces).
struct FollowedFile {
    var descriptor: Int32
    var id: ConfinedOpen.FileID
    var offset: Int64
    var partial: [UInt8] = []

    /// Reads at most `limit` bytes from `offset` into `buffer`, emitting every complete line.
    /// A file that shrank below `offset` (truncated) is read again from its start.
    /// - Returns: the bytes read (0 at the end of the file).
    mutating func read(
        limit: Int, buffer: inout [UInt8], maxLineBytes: Int, emit: (ArraySlice<UInt8>) -> Void
    ) -> Int {
        let wanted = min(limit, buffer.count)
        var count = 0
        repeat {
            count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
        } while count < 0 && errno == EINTR
        guard count > 0 else {
            if count == 0, let size = ConfinedOpen.status(of: descriptor)?.size, size < offset {
                flush(emit)
                offset = 0
            }
            return 0
        }
        offset += Int64(count)
        var start = 0
        while start < count {
            let newline = buffer.withUnsafeBytes { raw -> Int? in
                guard let found = memchr(raw.baseAddress! + start, 10, count - start) else { return nil }
                return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
            }
            guard let index = newline else { break }
            if partial.isEmpty {
                emitPieces(buffer[start..<index], maxLineBytes: maxLineBytes, emit)
            } else {
                partial.append(contentsOf: buffer[start..<index])
                emitPieces(partial[...], maxLineBytes: maxLineBytes, emit)
                partial.removeAll(keepingCapacity: true)
            }
            start = index + 1
        }
        var rest = buffer[start..<count]
        // The partial line holds at most `maxLineBytes`; what is beyond goes on in pieces.
        while partial.count + rest.count > maxLineBytes {
            let take = maxLineBytes - partial.count
            partial.append(contentsOf: rest.prefix(take))
            emit(partial[...])
            partial.removeAll(keepingCapacity: true)
            rest = rest.dropFirst(take)
        }
        partial.append(contentsOf: rest)
        return count
    }

    /// Emits a complete line in pieces of at most `maxLineBytes` (an empty line as one piece).
    private func emitPieces(_ line: ArraySlice<UInt8>, maxLineBytes: Int, _ emit: (ArraySlice<UInt8>) -> Void) {
        guard line.count > maxLineBytes else { return emit(line) }
        var rest = line
        repeat {
            emit(rest.prefix(maxLineBytes))
            rest = rest.dropFirst(maxLineBytes)
        } while !rest.isEmpty
    }

    /// Emits the partial last line, if any.
    mutating func flush(_ emit: (ArraySlice<UInt8>) -> Void) {
        guard !partial.isEmpty else { return }
        emit(partial[...])
        partial.removeAll()
    }
}
