import Glibc
public import SystemPackage

/// File helpers for the runner, coordinator and readers: whole reads, complete writes (retried
/// on EINTR and short writes by swift-system's `writeAll`), `mkdir -p`, durable replacement.
public enum Files {
    /// The bytes of `path` from `offset` to its current end.
    public static func read(path: String, from offset: Int64 = 0) throws(PlatformError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open for reading", path: path) }
        defer { close(fd) }
        return try read(descriptor: fd, from: offset, path: path)
    }

    /// The bytes of an open file from `offset` to its current end (`pread`, retried on EINTR).
    /// The buffer is sized from `fstat` and never zero-filled, so a read touches only the memory
    /// the bytes need (the runner reads every written coordinator stream on every turn, and a
    /// forked coordinator's touched pages are its private memory).
    public static func read(descriptor fd: Int32, from offset: Int64 = 0, path: String? = nil) throws(PlatformError) -> [UInt8] {
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? max(Int(clamping: Int64(info.st_size) - offset), 0) : 0
        // Room beyond the expected end, so that the end (or growth) shows in the same call.
        var capacity = expected + 4096
        var result: [UInt8] = []
        var position = offset
        let file = FileDescriptor(rawValue: fd)
        while true {
            var failure: Errno?
            let piece = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                do {
                    initialized = try file.read(fromAbsoluteOffset: position, into: UnsafeMutableRawBufferPointer(buffer))
                } catch {
                    failure = error as? Errno ?? Errno.ioError
                    initialized = 0
                }
            }
            if let failure { throw PlatformError(.systemCall, operation: "read", path: path, errno: failure) }
            if piece.isEmpty { break }
            if result.isEmpty { result = piece } else { result += piece }
            position += Int64(piece.count)
            capacity = 64 * 1024
        }
        return result
    }

    /// The whole content of `path`, or nil if it cannot be opened or read (procfs, optional files).
    public static func contents(of path: String) -> [UInt8]? {
        try? read(path: path)
    }

    /// The content of `path` as UTF-8 text (invalid bytes repaired), or nil.
    public static func text(of path: String) -> String? {
        contents(of: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes all of `bytes` to `fd`, retrying on EINTR and short writes.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String? = nil) throws(PlatformError) {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch {
            throw PlatformError(.systemCall, operation: "write", path: path, errno: error as? Errno)
        }
    }

    /// Writes all of `text` to `fd`.
    public static func writeAll(_ fd: Int32, _ text: String, path: String? = nil) throws(PlatformError) {
        try writeAll(fd, Array(text.utf8), path: path)
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String? = nil) throws(PlatformError) {
        var failure: PlatformError?
        bytes.withUnsafeBytes { buffer in
            do throws(PlatformError) {
                try writeAll(fd, buffer, path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// True if `path` exists (any file type; a dangling symlink does not).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `mkdir -p`, trying the deepest directory first (usually only the last one or two are missing).
    public static func makeDirectories(_ path: String, mode: UInt32 = 0o755) throws(PlatformError) {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw .system("create directory", path: path)
        }
        try makeDirectories(String(path[..<slash]), mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST { throw .system("create directory", path: path) }
    }

    /// Replaces `path` with `text` atomically and durably: a temporary file beside it is
    /// written, synced and renamed over it.
    public static func replaceDurably(_ path: String, with text: String) throws(PlatformError) {
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("open for writing", path: temporary) }
        do throws(PlatformError) {
            try writeAll(fd, text, path: temporary)
            try checked(fsync(fd), "fsync", path: temporary)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        try rename(temporary, to: path)
    }

    /// `fsync` of a directory: makes creations and renames in it durable.
    public static func syncDirectory(_ path: String) throws(PlatformError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open directory", path: path) }
        defer { close(fd) }
        try checked(fsync(fd), "sync directory", path: path)
    }

    /// `rename(2)`.
    public static func rename(_ source: String, to destination: String) throws(PlatformError) {
        try checked(Glibc.rename(source, destination), "rename \(source) to", path: destination)
    }

    /// The target of a symbolic link (e.g. `/proc/self/exe`), or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// This process's executable.
    public static var currentExecutable: String { readLink("/proc/self/exe") ?? CommandLine.arguments[0] }

    /// The directory part of `path` (`/a/b` → `/a`, `b` → `.`).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
