import Glibc
import ThermosPlatform

/// Wakes the observer as soon as a task file appears, moves or disappears: inotify watches
/// (`ThermosPlatform.Inotify`) on each root, `<root>/tasks` and `<root>/tasks/active|finished`
/// (directories created later are added on the next `rewatch()`). The periodic rescan stays as a
/// safety net for filesystems without inotify (NFS) and for overflowed queues.
public final class RootWatcher: Sendable {
    public let roots: [String]
    /// Nil when inotify is unavailable.
    private let inotify: Inotify?

    public init(roots: [String]) {
        self.roots = roots
        inotify = try? Inotify()
        rewatch()
    }

    /// True when inotify is in use.
    public var isWatching: Bool { inotify != nil }

    /// (Re)adds the watches; adding an existing watch is a no-op in the kernel, and a directory
    /// that does not exist yet is watched once a later call finds it.
    public func rewatch() {
        guard let inotify else { return }
        let events: Inotify.Events = [.created, .deleted, .movedOut, .movedIn, .selfDeleted, .selfMoved]
        for root in roots {
            for path in [root, root + "/tasks", root + "/tasks/active", root + "/tasks/finished"] {
                try? inotify.watch(path, for: events)
            }
        }
    }

    /// The inotify descriptor to wait on (nil without inotify). It is non-blocking.
    public var eventDescriptor: Int32? { inotify?.descriptor }

    /// Reads every queued event without blocking; true if there were any.
    public func drain() -> Bool {
        inotify?.drain() ?? false
    }

    /// Blocks until something changed or `timeout` seconds passed; drains the queue. Returns
    /// true if there were events.
    public func wait(timeout: Double) -> Bool {
        guard let inotify else {
            var request = timespec(tv_sec: Int(timeout), tv_nsec: Int((timeout - Double(Int(timeout))) * 1e9))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            return false
        }
        return inotify.wait(timeout: timeout)
    }
}
