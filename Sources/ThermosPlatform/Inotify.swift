import Glibc

/// An inotify instance (non-blocking, close-on-exec): watch paths, then either add `descriptor`
/// to an event loop and `drain()` it when readable, or block in `wait(timeout:)`.
public final class Inotify: Sendable {
    /// What to be told about.
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let modified = Events(rawValue: UInt32(IN_MODIFY))
        public static let closedAfterWrite = Events(rawValue: UInt32(IN_CLOSE_WRITE))
        public static let created = Events(rawValue: UInt32(IN_CREATE))
        public static let movedIn = Events(rawValue: UInt32(IN_MOVED_TO))
        public static let movedOut = Events(rawValue: UInt32(IN_MOVED_FROM))
        public static let deleted = Events(rawValue: UInt32(IN_DELETE))
        /// The watched path itself was deleted or moved away.
        public static let selfDeleted = Events(rawValue: UInt32(IN_DELETE_SELF))
        public static let selfMoved = Events(rawValue: UInt32(IN_MOVE_SELF))
        /// Watch flag: only if the path is a directory.
        public static let onlyDirectory = Events(rawValue: UInt32(IN_ONLYDIR))
        /// Reported, not asked for: the watch was removed (explicitly, or its inode is gone).
        public static let ignored = Events(rawValue: UInt32(IN_IGNORED))
        /// Reported, not asked for: the queue overflowed and events were lost (watch -1).
        public static let overflowed = Events(rawValue: UInt32(IN_Q_OVERFLOW))
    }

    /// One decoded event: the watch it belongs to (-1 for an overflow), what happened, and the
    /// name of the entry inside a watched directory (empty for the watched path itself).
    public struct Event: Sendable, Hashable {
        public var watch: Int32
        public var events: Events
        public var name: [UInt8]
    }

    /// The inotify descriptor (readable when events are queued).
    public let descriptor: Int32

    public init() throws(PlatformError) {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw .system("create an inotify instance") }
    }

    deinit {
        close(descriptor)
    }

    /// Watches `path` (a file or a directory); returns the watch descriptor events carry.
    /// - Throws: e.g. ENOENT when `path` does not exist, ENOSPC past the watch limit.
    @discardableResult
    public func watch(_ path: String, for events: Events) throws(PlatformError) -> Int32 {
        try checked(inotify_add_watch(descriptor, path, events.rawValue), "watch", path: path)
    }

    /// Watches exactly the file or directory open as `fd` (through `/proc/self/fd`, so no name
    /// is resolved again: a path swapped for a symlink meanwhile cannot redirect the watch).
    @discardableResult
    public func watch(descriptor fd: Int32, for events: Events) throws(PlatformError) -> Int32 {
        try watch("/proc/self/fd/\(fd)", for: events)
    }

    /// Removes a watch (its `.ignored` event still arrives). A watch already gone is fine.
    public func unwatch(_ watch: Int32) {
        _ = inotify_rm_watch(descriptor, watch)
    }

    /// Empties the queue, decoding each event; true if anything was queued.
    @discardableResult
    public func readEvents(_ body: (Event) -> Void) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let headerSize = 16
        var any = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return any }
            any = true
            var offset = 0
            while offset + headerSize <= count {
                let field = { (at: Int) -> UInt32 in
                    buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + at, as: UInt32.self) }
                }
                let length = Int(field(12))
                let end = min(offset + headerSize + length, count)
                var name = Array(buffer[(offset + headerSize)..<end])
                if let zero = name.firstIndex(of: 0) { name.removeSubrange(zero...) }
                body(Event(watch: Int32(bitPattern: field(0)), events: Events(rawValue: field(4)), name: name))
                offset = end
            }
        }
    }

    /// Empties the queue, saying which watches had events.
    /// - Returns: their watch descriptors, and whether the kernel's queue overflowed (events were
    ///   lost: treat every watch as changed).
    public func drainWatches() -> (watches: Set<Int32>, overflowed: Bool) {
        var watches = Set<Int32>()
        var overflowed = false
        readEvents { event in
            if event.events.rawValue & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true } else { watches.insert(event.watch) }
        }
        return (watches, overflowed)
    }

    /// Empties the queue; true if anything was queued.
    @discardableResult
    public func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var any = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                any = true
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return any
        }
    }

    /// Blocks until a watched path changes or `timeout` seconds pass; true if something changed.
    @discardableResult
    public func wait(timeout: Double) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(timeout, 3600)) * 1000)
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return false }
            return drain()
        }
    }
}
