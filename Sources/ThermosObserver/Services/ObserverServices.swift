import Dispatch
public import ServiceLifecycle
public import ThermosMonitor

/// Keeps the task universe current: rescans the roots as soon as inotify reports a change in
/// a `tasks/` directory, and every `interval` as a safety net (NFS, overflowed queues). The
/// scan runs on the thread pool. Ends on graceful shutdown or cancellation.
public struct RescanService: Service {
    public let observer: TaskObserver
    public let metrics: ObserverMetrics?
    public let interval: Duration

    public init(observer: TaskObserver, metrics: ObserverMetrics?, interval: Duration) {
        self.observer = observer
        self.metrics = metrics
        self.interval = interval
    }

    public func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let source = observer.watcher.eventDescriptor.map { descriptor in
            let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: DispatchQueue(label: "thermos.observer.inotify"))
            source.setEventHandler { [watcher = observer.watcher] in
                if watcher.drain() { wake.yield() }
            }
            source.resume()
            return source
        }
        defer { source?.cancel() }
        try? await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    while true {
                        try await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
                try await Offload.run { _ = observer.refresh() }
                metrics?.update(observer: observer)
                for await _ in wakeups {
                    try await Offload.run { _ = observer.refresh() }
                    metrics?.update(observer: observer)
                }
                group.cancelAll()
            }
        }
    }
}

/// Runs `work` on the thread pool every `interval` until graceful shutdown (the process
/// sampler and the disk walker).
public struct PeriodicService: Service, CustomStringConvertible {
    public let name: String
    public let interval: Duration
    let work: @Sendable () -> Void
    let after: @Sendable () -> Void

    public init(name: String, interval: Duration, work: @escaping @Sendable () -> Void, after: @escaping @Sendable () -> Void = {}) {
        self.name = name
        self.interval = interval
        self.work = work
        self.after = after
    }

    public var description: String { name }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Offload.run(work)
                after()
                try await Task.sleep(for: interval)
            }
        }
    }
}

/// The observer's background services for `settings`: the rescan always; the process sampler
/// and disk walker unless resource collection is off.
public func observerServices(_ observer: TaskObserver, metrics: ObserverMetrics?) -> [any Service] {
    let settings = observer.settings
    var services: [any Service] = [
        RescanService(observer: observer, metrics: metrics, interval: .seconds(settings.pollingInterval)),
    ]
    guard settings.resourceCollection else { return services }
    services.append(PeriodicService(
        name: "ProcessSampler", interval: .seconds(settings.processCollectionInterval),
        work: { observer.sampleProcesses() }, after: { metrics?.update(observer: observer) }))
    services.append(PeriodicService(
        name: "DiskCollector", interval: .seconds(settings.diskCollectionInterval), work: { observer.collectDisk() }))
    return services
}
