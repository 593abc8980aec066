import Glibc
import ThermosPlatform

/// Checkpoint file access on top of `ThermosPlatform.Files`, with errors as `CheckpointError`.
public enum FileIO {
    static func error(_ operation: String, path: String, errno code: Int32) -> CheckpointError {
        let reason = String(cString: strerror(code))
        return CheckpointError(.io, "cannot \(operation): \(reason)", path: path, errno: code)
    }

    /// The bytes of `path` from `offset` to its current end.
    static func read(path: String, from offset: Int = 0) throws(CheckpointError) -> [UInt8] {
        do {
            return try Files.read(path: path, from: Int64(offset))
        } catch {
            throw Self.error(error.operation, path: path, errno: error.errnoValue ?? EIO)
        }
    }

    /// The whole content of `path`, or nil if it cannot be opened or read.
    public static func contents(of path: String) -> [UInt8]? {
        Files.contents(of: path)
    }

    /// True if `path` exists (any file type).
    static func exists(_ path: String) -> Bool {
        Files.exists(path)
    }

    /// Writes all of `bytes` to `fd` (EINTR and short writes retried).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(CheckpointError) {
        do {
            try Files.writeAll(fd, bytes, path: path)
        } catch {
            throw Self.error("write", path: path, errno: error.errnoValue ?? EIO)
        }
    }
}
