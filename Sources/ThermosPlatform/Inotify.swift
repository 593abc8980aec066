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

    /// Watches `path` (a file or a directory).
    /// - Throws: e.g. ENOENT when `path` does not exist, ENOSPC past the watch limit.
    public func watch(_ path: String, for events: Events) throws(PlatformError) {
        _ = try addWatch(path, for: events)
    }

    /// Watches `path` and returns the watch descriptor (the same for a path watched again), which
    /// `drainWatches` reports.
    public func addWatch(_ path: String, for events: Events) throws(PlatformError) -> Int32 {
        try checked(inotify_add_watch(descriptor, path, events.rawValue), "watch", path: path)
    }

    /// Empties the queue, saying which watches had events.
    /// - Returns: their watch descriptors, and whether the kernel's queue overflowed (events were
    ///   lost: treat every watch as changed).
    public func drainWatches() -> (watches: Set<Int32>, overflowed: Bool) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        var watches = Set<Int32>()
        var overflowed = false
        let header = MemoryLayout<inotify_event>.size
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return (watches, overflowed) }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + header <= count {
                    let watch = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let nameLength = raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true } else { watches.insert(watch) }
                    offset += header + Int(nameLength)
                }
            }
        }
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
