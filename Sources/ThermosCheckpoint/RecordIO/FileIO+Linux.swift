import Glibc

/// Minimal file access for checkpoint streams (Glibc only: this module avoids Foundation).
public enum FileIO {
    static func error(_ operation: String, path: String, errno code: Int32) -> CheckpointError {
        let reason = String(cString: strerror(code))
        return CheckpointError(.io, "cannot \(operation): \(reason)", path: path, errno: code)
    }

    /// The bytes of `path` from `offset` to its current end.
    static func read(path: String, from offset: Int = 0) throws(CheckpointError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open for reading", path: path, errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var position = off_t(offset)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, position) }
            if count < 0 {
                if errno == EINTR { continue }
                throw error("read", path: path, errno: errno)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
            position += off_t(count)
        }
        return result
    }

    /// The whole content of `path`, or nil if it cannot be opened or read.
    public static func contents(of path: String) -> [UInt8]? {
        try? read(path: path)
    }

    /// True if `path` exists (any file type).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
