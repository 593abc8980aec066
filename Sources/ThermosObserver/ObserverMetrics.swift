import OrderedCollections
import Prometheus
import Synchronization
import ThermosCheckpoint
import ThermosMonitor

/// `GET /metrics`: Prometheus text built on each scrape from the observer's current view into a
/// fresh `PrometheusCollectorRegistry` (so tasks that went away leave no stale series).
final class ObserverMetrics: Sendable {
    private let lastScrapeSeconds = Mutex<Double>(0)
    private let scrapes = Atomic<Int>(0)

    func render(observer: TaskObserver, model: ObserverModel) -> String {
        let started = wallClock()
        let registry = PrometheusCollectorRegistry()
        let (active, finished) = observer.counts()
        registry.makeGauge(name: "thermos_tasks", labels: [("type", "active")], help: "Tasks by task file directory.").set(Double(active))
        registry.makeGauge(name: "thermos_tasks", labels: [("type", "finished")], help: "Tasks by task file directory.").set(Double(finished))
        var taskStates: [String: Int] = [:]
        var processStates: [String: Int] = [:]
        var restarts = 0
        for entry in observer.tasks(.all) {
            let state = entry.task.state
            taskStates[state.taskState?.name ?? "ACTIVE", default: 0] += 1
            guard entry.location.directory == .active else { continue }
            for (_, runs) in state.processes {
                processStates[runs.last?.state?.name ?? "None", default: 0] += 1
                restarts += max(0, runs.count - 1)
            }
            let sample = entry.task.latestResources
            let labels = [("task_id", entry.location.taskID)]
            registry.makeGauge(name: "thermos_task_cpu_cores", labels: labels, help: "CPU rate of an active task's processes.").set(sample.process.rate)
            registry.makeGauge(name: "thermos_task_rss_bytes", labels: labels, help: "Resident memory of an active task's processes.").set(Double(sample.process.rss))
            registry.makeGauge(name: "thermos_task_disk_bytes", labels: labels, help: "Disk used by an active task's sandbox.").set(Double(sample.disk))
            registry.makeGauge(name: "thermos_task_processes", labels: labels, help: "Processes (with descendants) of an active task.").set(Double(sample.processCount))
        }
        for state in TaskState.allKnown {
            registry.makeGauge(name: "thermos_task_state", labels: [("state", state.name)], help: "Tasks by task state.")
                .set(Double(taskStates[state.name] ?? 0))
        }
        for state in ProcessState.allKnown {
            registry.makeGauge(name: "thermos_process_state", labels: [("state", state.name)], help: "Processes of active tasks by the state of their last run.")
                .set(Double(processStates[state.name] ?? 0))
        }
        registry.makeGauge(name: "thermos_process_restarts", help: "Runs beyond the first, summed over the processes of active tasks.").set(Double(restarts))
        let scrapeCount = scrapes.add(1, ordering: .relaxed).newValue
        registry.makeGauge(name: "thermos_observer_scrapes", help: "Scrapes served, this one included.").set(Double(scrapeCount))
        registry.makeGauge(name: "thermos_observer_last_scrape_seconds", help: "Time the previous scrape took to build.")
            .set(lastScrapeSeconds.withLock { $0 })
        let text = registry.emitToString()
        lastScrapeSeconds.withLock { $0 = wallClock() - started }
        return text
    }
}
