public import CoreMetrics
import Metrics
public import Prometheus
import Synchronization
import OrderedCollections
import ThermosCheckpoint
public import ThermosMonitor

/// The observer's metrics, through swift-metrics into one `PrometheusCollectorRegistry`:
/// per-task gauges created when an active task appears and destroyed when it finishes or goes
/// away, task/process state gauges, scrape counters. The executable bootstraps
/// `MetricsSystem` with `factory` (so Hummingbird's request metrics land in the same registry);
/// `/metrics` prints the registry.
public final class ObserverMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    /// The gauges of one active task; `probes` are keyed by `ProbeGauge` (process readiness and
    /// each probe's failures in a row), created when probes.json first names them.
    struct TaskGauges {
        var cpu, rss, disk, processes: CoreMetrics.Gauge
        var probes: [ProbeGauge: CoreMetrics.Gauge] = [:]
        func destroy() {
            for gauge in [cpu, rss, disk, processes] + Array(probes.values) { gauge.destroy() }
        }
    }

    /// One probe gauge of a task: `thermos_process_ready` (probe nil) or
    /// `thermos_process_probe_failures` of the readiness/liveness probe of a process.
    struct ProbeGauge: Hashable {
        var process: String
        var probe: String?
    }

    private let taskGauges = Mutex<[String: TaskGauges]>([:])
    private let scrapes: CoreMetrics.Counter
    private let scrapeSeconds: CoreMetrics.Gauge
    private let tasks: [String: CoreMetrics.Gauge]
    private let taskStates: [String: CoreMetrics.Gauge]
    private let processStates: [String: CoreMetrics.Gauge]
    private let restarts: CoreMetrics.Gauge

    public init() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.factory = factory
        scrapes = CoreMetrics.Counter(label: "thermos_observer_scrapes_total", factory: factory)
        scrapeSeconds = CoreMetrics.Gauge(label: "thermos_observer_last_scrape_seconds", factory: factory)
        tasks = Dictionary(uniqueKeysWithValues: ["active", "finished"].map { ($0, CoreMetrics.Gauge(label: "thermos_tasks", dimensions: [("type", $0)], factory: factory)) })
        taskStates = Dictionary(uniqueKeysWithValues: TaskState.allKnown.map {
            ($0.name, CoreMetrics.Gauge(label: "thermos_task_state", dimensions: [("state", $0.name)], factory: factory))
        })
        processStates = Dictionary(uniqueKeysWithValues: ProcessState.allKnown.map {
            ($0.name, CoreMetrics.Gauge(label: "thermos_process_state", dimensions: [("state", $0.name)], factory: factory))
        })
        restarts = CoreMetrics.Gauge(label: "thermos_process_restarts", factory: factory)
    }

    /// Brings the per-task gauges in line with the active tasks: new ones get gauges, gone or
    /// finished ones lose theirs, every one is set from its latest sample.
    public func update(observer: TaskObserver) {
        let active = observer.tasks(.active)
        let files = TaskFiles(observer: observer)
        taskGauges.withLock { gauges in
            var seen = Set<String>()
            for entry in active {
                let id = entry.location.taskID
                seen.insert(id)
                let task = gauges[id] ?? {
                    let labels = [("task_id", id)]
                    let made = TaskGauges(
                        cpu: CoreMetrics.Gauge(label: "thermos_task_cpu_cores", dimensions: labels, factory: factory),
                        rss: CoreMetrics.Gauge(label: "thermos_task_rss_bytes", dimensions: labels, factory: factory),
                        disk: CoreMetrics.Gauge(label: "thermos_task_disk_bytes", dimensions: labels, factory: factory),
                        processes: CoreMetrics.Gauge(label: "thermos_task_processes", dimensions: labels, factory: factory))
                    gauges[id] = made
                    return made
                }()
                let sample = entry.task.latestResources
                task.cpu.record(sample.process.rate)
                task.rss.record(sample.process.rss)
                task.disk.record(sample.disk)
                task.processes.record(sample.processCount)
                gauges[id]?.probes = probeGauges(task.probes, id: id, document: files.probes(id))
            }
            for (id, task) in gauges where !seen.contains(id) {
                task.destroy()
                gauges[id] = nil
            }
        }
    }

    /// Sets the probe gauges of a task from its probes.json (none without one): gauges of
    /// processes or probes no longer in the document are destroyed.
    private func probeGauges(
        _ existing: [ProbeGauge: CoreMetrics.Gauge], id: String, document: ProbeStatusDocument?
    ) -> [ProbeGauge: CoreMetrics.Gauge] {
        var values: [ProbeGauge: Int] = [:]
        for (process, entry) in document?.processes ?? [:] {
            if let ready = entry.ready { values[ProbeGauge(process: process, probe: nil)] = ready ? 1 : 0 }
            if let readiness = entry.readiness { values[ProbeGauge(process: process, probe: "readiness")] = readiness.consecutive_failures }
            if let liveness = entry.liveness { values[ProbeGauge(process: process, probe: "liveness")] = liveness.consecutive_failures }
        }
        var kept: [ProbeGauge: CoreMetrics.Gauge] = [:]
        for (key, value) in values {
            let gauge = existing[key] ?? {
                guard let probe = key.probe else {
                    return CoreMetrics.Gauge(label: "thermos_process_ready", dimensions: [("task_id", id), ("process", key.process)], factory: factory)
                }
                return CoreMetrics.Gauge(
                    label: "thermos_process_probe_failures", dimensions: [("task_id", id), ("process", key.process), ("probe", probe)],
                    factory: factory)
            }()
            gauge.record(value)
            kept[key] = gauge
        }
        for (key, gauge) in existing where kept[key] == nil { gauge.destroy() }
        return kept
    }

    /// Task ids that have gauges now.
    public var tasksWithGauges: Set<String> { taskGauges.withLock { Set($0.keys) } }

    /// The Prometheus text of the registry after refreshing the gauges (one scrape).
    public func render(observer: TaskObserver) -> String {
        let started = wallClock()
        update(observer: observer)
        let (active, finished) = observer.counts()
        tasks["active"]?.record(active)
        tasks["finished"]?.record(finished)
        var taskCounts: [String: Int] = [:]
        var processCounts: [String: Int] = [:]
        var restartCount = 0
        for entry in observer.tasks(.all) {
            let state = entry.task.state
            taskCounts[state.taskState?.name ?? "ACTIVE", default: 0] += 1
            guard entry.location.directory == .active else { continue }
            for (_, runs) in state.processes {
                processCounts[runs.last?.state?.name ?? "None", default: 0] += 1
                restartCount += max(0, runs.count - 1)
            }
        }
        for (name, gauge) in taskStates { gauge.record(taskCounts[name] ?? 0) }
        for (name, gauge) in processStates { gauge.record(processCounts[name] ?? 0) }
        restarts.record(restartCount)
        scrapes.increment()
        let text = registry.emitToString()
        scrapeSeconds.record(wallClock() - started)
        return text
    }
}
