import Hummingbird
import NIOCore
import NIOPosix

/// Runs blocking work (file reads, checkpoint tails, `/proc`) on NIO's thread pool, off the
/// two cooperative threads, within a time budget: past it the caller gets a 503
/// (an `HTTPError` 503) at once and the work's result is dropped whenever it ends.
enum Offload {
    static func run<T: Sendable>(budget: Duration, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let promise = loop.makePromise(of: T.self)
        NIOThreadPool.singleton.runIfActive(eventLoop: loop, work).cascade(to: promise)
        let (seconds, attoseconds) = budget.components
        let timeout = loop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            // A promise completes once: if the work finished first, this is ignored.
            promise.fail(HTTPError(.serviceUnavailable, message: "The request took too long"))
        }
        defer { timeout.cancel() }
        return try await promise.futureResult.get()
    }

    /// Runs without a budget (pieces of a streamed body: each is small and bounded).
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
