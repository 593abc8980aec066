import Glibc
import ThermosPlatform

/// Where one of the command's output streams goes when the coordinator relays it through a pipe
/// (`rotate` mode, destinations `both` and `none`).
final class LogSink {
    private let path: String?
    private var file: Int32 = -1
    private let console: Int32?
    private let rotation: (maxBytes: Int64, backups: Int)?
    private var size: Int64 = 0

    /// - Parameters:
    ///   - path: the log file, or nil for no file.
    ///   - console: the coordinator's own fd (1 or 2) to tee to, or nil.
    ///   - rotation: roll `path` over to `path.1` … `path.<backups>` once it reaches `maxBytes`.
    init(path: String?, console: Int32?, rotation: (maxBytes: Int64, backups: Int)?, owner: (uid_t, gid_t)?) throws(CoordinatorFailure) {
        self.path = path
        self.console = console
        self.rotation = rotation
        if let path {
            // Rotating files start fresh ('w'), standard ones append ('a'), like the original.
            file = try LogSink.open(path, truncate: rotation != nil, owner: owner)
            var info = stat()
            if fstat(file, &info) == 0 { size = Int64(info.st_size) }
        }
    }

    static func open(_ path: String, truncate: Bool, owner: (uid_t, gid_t)?) throws(CoordinatorFailure) -> Int32 {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw .system("cannot open log file \(path): \(describeErrno(errno))") }
        if let (uid, gid) = owner { _ = fchown(fd, uid, gid) }
        return fd
    }

    /// Writes `bytes` to the console and the file. A rotating file is filled exactly to its
    /// size and rolled over, so what lands where does not depend on how reads were chunked.
    func write(_ bytes: UnsafeRawBufferPointer) {
        if let console { writeAll(console, bytes) }
        guard file >= 0 else { return }
        guard let rotation else {
            writeAll(file, bytes)
            return
        }
        var rest = bytes
        while !rest.isEmpty {
            let room = Int(max(rotation.maxBytes - size, 1))
            let part = UnsafeRawBufferPointer(rebasing: rest.prefix(room))
            writeAll(file, part)
            size += Int64(part.count)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(part.count))
            if size >= rotation.maxBytes { rollOver(backups: rotation.backups) }
        }
    }

    private func rollOver(backups: Int) {
        guard let path else { return }
        Glibc.close(file)
        var index = backups - 1
        while index >= 1 {
            rename("\(path).\(index)", "\(path).\(index + 1)")
            index -= 1
        }
        rename(path, "\(path).1")
        file = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        size = 0
    }

    func close() {
        if file >= 0 { Glibc.close(file) }
        file = -1
    }
}

/// Writes all of `bytes` to `fd` (EINTR and short writes retried). A log that cannot take more
/// (disk full) loses output rather than stopping the command, as with the original's file logs.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    try? Files.writeAll(fd, bytes)
}

/// Relays the command's piped stdout/stderr into their sinks until both pipes reach EOF.
func relay(stdout: Int32, stderr: Int32, into sinks: (LogSink, LogSink)) {
    var fds = [pollfd(fd: stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)]
    var buffer = [UInt8](repeating: 0, count: 65536)
    var open = 2
    while open > 0 {
        if poll(&fds, nfds_t(fds.count), -1) < 0 {
            if errno == EINTR { continue }
            return
        }
        for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fds[index].fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.withUnsafeBytes { raw in
                    let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                    (index == 0 ? sinks.0 : sinks.1).write(chunk)
                }
            } else if count == 0 || errno != EINTR {
                close(fds[index].fd)
                fds[index].fd = -1
                open -= 1
            }
        }
    }
}
