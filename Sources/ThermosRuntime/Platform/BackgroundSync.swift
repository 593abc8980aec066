import CThermosSys
import Glibc
import Synchronization

/// Makes a checkpoint durable off the runner's hot path (`--fsync=group`): the event loop asks
/// for a sync before it blocks, a dedicated thread runs `fdatasync`, and requests made while one
/// is in flight are merged into the next (an eventfd counts them). Records are visible to
/// readers as soon as they are written; this only decides when they reach the disk.
final class BackgroundSync: Sendable {
    private let descriptor: Int32
    private let wakeup: Int32
    private let stopping = Atomic<Bool>(false)
    /// The thread handle, written once by `init` before anything else can read it.
    private let thread = Mutex<pthread_t?>(nil)

    /// Starts the sync thread for `descriptor` (which must stay open until `stop()` returns).
    init?(descriptor: Int32) {
        self.descriptor = descriptor
        wakeup = cthermos_eventfd()
        guard wakeup >= 0 else { return nil }
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&handle, nil, { context in
            let syncer = Unmanaged<BackgroundSync>.fromOpaque(context!).takeRetainedValue()
            syncer.loop()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<BackgroundSync>.fromOpaque(context).release()
            close(wakeup)
            return nil
        }
        thread.withLock { $0 = handle }
    }

    private func loop() {
        var count: UInt64 = 0
        while true {
            let result = read(wakeup, &count, MemoryLayout<UInt64>.size)
            if result < 0 && errno == EINTR { continue }
            if stopping.load(ordering: .acquiring) { return }
            _ = fdatasync(descriptor)
        }
    }

    /// Asks for a sync of everything written so far; returns at once.
    func request() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, MemoryLayout<UInt64>.size)
    }

    /// Stops the thread (the caller then syncs synchronously if it needs durability).
    func stop() {
        stopping.store(true, ordering: .releasing)
        request()
        if let handle = thread.withLock({ $0 }) { pthread_join(handle, nil) }
        close(wakeup)
    }
}
