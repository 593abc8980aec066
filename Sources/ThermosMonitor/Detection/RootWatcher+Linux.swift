import Glibc

/// Wakes the observer as soon as a task file appears, moves or disappears: inotify watches on
/// each root, `<root>/tasks` and `<root>/tasks/active|finished` (directories created later are
/// added on the next `rewatch()`). The periodic rescan stays as a safety net for filesystems
/// without inotify (NFS) and for overflowed queues.
public final class RootWatcher: Sendable {
    public let roots: [String]
    /// The inotify descriptor (-1 when inotify is unavailable).
    private let descriptor: Int32

    public init(roots: [String]) {
        self.roots = roots
        descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        rewatch()
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// True when inotify is in use.
    public var isWatching: Bool { descriptor >= 0 }

    /// (Re)adds the watches; adding an existing watch is a no-op in the kernel.
    public func rewatch() {
        guard descriptor >= 0 else { return }
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
        for root in roots {
            for path in [root, root + "/tasks", root + "/tasks/active", root + "/tasks/finished"] {
                _ = inotify_add_watch(descriptor, path, mask)
            }
        }
    }

    /// The inotify descriptor to wait on (nil without inotify). It is non-blocking.
    public var eventDescriptor: Int32? { descriptor >= 0 ? descriptor : nil }

    /// Reads every queued event without blocking; true if there were any.
    public func drain() -> Bool {
        guard descriptor >= 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var any = false
        while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 { any = true }
        return any
    }

    /// Blocks until something changed or `timeout` seconds passed; drains the queue. Returns
    /// true if there were events.
    public func wait(timeout: Double) -> Bool {
        guard descriptor >= 0 else {
            var request = timespec(tv_sec: Int(timeout), tv_nsec: Int((timeout - Double(Int(timeout))) * 1e9))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            return false
        }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let result = poll(&poller, 1, Int32(max(0, timeout * 1000)))
        guard result > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var any = false
        while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 { any = true }
        return any
    }
}
