import Glibc
import ThermosPlatform

/// Waits for file-system changes (inotify through `ThermosPlatform.Inotify`, no polling): `wait`
/// returns when any watched path changes or the timeout passes. Without inotify (or for a path
/// that cannot be watched) it degrades to waiting out the timeout, which callers treat as a rescan.
final class FileWatch {
    private let inotify = try? Inotify()

    /// Watches `path` (a file or a directory) for writes, creations and renames into it.
    func watch(_ path: String) {
        try? inotify?.watch(path, for: [.modified, .created, .movedIn, .closedAfterWrite])
    }

    /// Blocks until a watched path changes or `timeout` seconds pass; true if something changed.
    @discardableResult
    func wait(timeout: Double) -> Bool {
        guard let inotify else {
            usleep(useconds_t(max(0, min(timeout, 3600)) * 1_000_000))
            return false
        }
        return inotify.wait(timeout: timeout)
    }
}

/// Flushes the C stdio buffer of standard output (Swift's `print` writes through it).
func flushStandardOutput() {
    fflush(nil)
}
