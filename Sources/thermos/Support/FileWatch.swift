import Glibc

/// Waits for file-system changes with inotify (no polling): `wait` returns when any watched path
/// changes or the timeout passes.
final class FileWatch {
    private let fd: Int32

    init() {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Watches `path` (a file or a directory) for writes, creations and renames into it.
    func watch(_ path: String) {
        _ = inotify_add_watch(fd, path, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE))
    }

    /// Blocks until a watched path changes or `timeout` seconds pass; true if something changed.
    @discardableResult
    func wait(timeout: Double) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(timeout, 3600)) * 1000)
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
        return true
    }
}

/// Flushes the C stdio buffer of standard output (Swift's `print` writes through it).
func flushStandardOutput() {
    fflush(nil)
}
