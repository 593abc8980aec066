import Glibc
import OrderedCollections
import Synchronization
public import ThermosCheckpoint
public import ThermosConfig

/// One task as the observer sees it: its checkpoint (tailed while active, read once when
/// finished), its task JSON bound to the header, and its sampled resources.
public final class ObservedTask: Sendable {
    public let root: String
    public let taskID: String
    public let monitor: TaskMonitor

    private struct Cache {
        var finished: Bool
        var finishedLoaded = false
        var taskJSON: ConfigValue?
        var taskJSONLoaded = false
    }

    private let cache: Mutex<Cache>
    private let resources: Mutex<TaskResources>
    /// (device, inode) of the sandbox directory the first time it was opened.
    private let sandboxIdentity = Mutex<SandboxIdentity?>(nil)

    /// The device and inode of a sandbox directory.
    public struct SandboxIdentity: Sendable, Hashable {
        public var device: UInt64
        public var inode: UInt64
        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    init(root: String, taskID: String, finished: Bool, historyLength: Int) {
        self.root = root
        self.taskID = taskID
        monitor = TaskMonitor(root: root, taskID: taskID)
        cache = Mutex(Cache(finished: finished))
        // historyLength was validated by the observer settings.
        resources = Mutex(TaskResources(history: try! ResourceHistory(capacity: historyLength)))
    }

    /// True once the task file moved to `tasks/finished`.
    public var isFinished: Bool { cache.withLock { $0.finished } }

    /// Pins the sandbox the first time it is seen; afterwards true only for that same directory
    /// (a sandbox gc'ed and recreated, or swapped for another directory, serves nothing).
    public func isPinnedSandbox(_ identity: SandboxIdentity) -> Bool {
        sandboxIdentity.withLock { pinned in
            guard let pinned else {
                pinned = identity
                return true
            }
            return pinned == identity
        }
    }

    func markFinished() {
        cache.withLock { $0.finished = true }
    }

    /// The replayed state: refreshed from the stream while active, read once when finished.
    public var state: RunnerState {
        let refresh = cache.withLock { cache -> Bool in
            if !cache.finished { return true }
            if cache.finishedLoaded { return false }
            cache.finishedLoaded = true
            return true
        }
        if refresh { monitor.refresh() }
        return monitor.state
    }

    /// Processes kept down by `thermos stop` (replayed with `state`).
    public var stoppedProcesses: Set<String> {
        _ = state
        return monitor.stoppedProcesses
    }

    /// `tasks/active/<id>` if it exists, else `tasks/finished/<id>`.
    public var taskFile: String {
        let active = TaskPath.taskFile(root: root, taskID: taskID, state: .active)
        return TaskMonitor.exists(active) ? active : TaskPath.taskFile(root: root, taskID: taskID, state: .finished)
    }

    /// The task JSON bound with `thermos.task_id`, `thermos.user` and `thermos.ports` from the
    /// header (references it cannot bind stay as written); nil if the file or header is missing
    /// or the JSON does not parse. Cached once the header is known.
    public var taskJSON: ConfigValue? {
        if let cached = cache.withLock({ $0.taskJSONLoaded ? Optional($0.taskJSON) : nil }) { return cached }
        guard let header = state.header else { return nil }
        var value: ConfigValue?
        if let bytes = FileIO.contents(of: taskFile), let text = String(validating: bytes, as: UTF8.self),
           let template = try? TaskDocument.templates(json: text, path: taskFile).first
        {
            let ports = Dictionary(uniqueKeysWithValues: (header.ports ?? [:]).map { ($0.key, Int($0.value)) })
            let context = ThermosContext(taskID: header.taskID ?? taskID, user: header.user, ports: ports)
            value = (try? template.interpolated(context: context).value) ?? template.value
        }
        cache.withLock {
            $0.taskJSON = value
            $0.taskJSONLoaded = true
        }
        return value
    }

    // MARK: resources

    /// The newest resource sample (zeros before the first one, and for finished tasks).
    public var latestResources: TaskResourceSample {
        resources.withLock { resources in
            var sample = resources.history.latest?.value ?? TaskResourceSample(timestamp: 0)
            sample.disk = resources.disk
            return sample
        }
    }

    /// Every sample kept (oldest first).
    public var resourceHistory: [TaskResourceSample] {
        resources.withLock { $0.history.entries.map(\.value) }
    }

    /// Samples the processes whose last run is RUNNING (their process trees) from `snapshot`.
    func sampleProcesses(_ snapshot: ProcSnapshot) {
        let running = state.processes.compactMap { _, runs -> (ProcessStatus, Int)? in
            guard let last = runs.last, last.state == .running else { return nil }
            return (last, runs.count - 1)
        }
        resources.withLock { resources in
            var byProcess: [String: ProcessTreeSample] = [:]
            var kept: [TaskResources.Key: ProcessTreeCollector] = [:]
            var total = ProcessSample.empty
            var count = 0
            for (status, run) in running {
                guard let name = status.process, let pid = status.pid else { continue }
                let key = TaskResources.Key(process: name, run: run, pid: pid)
                var collector = resources.collectors[key] ?? ProcessTreeCollector(pid: pid)
                let sample = collector.sample(snapshot)
                kept[key] = collector
                byProcess[name] = ProcessTreeSample(sample: sample, processCount: collector.processCount)
                total = total + sample
                count += collector.processCount
            }
            resources.collectors = kept
            let entry = TaskResourceSample(
                timestamp: snapshot.timestamp, processCount: count, process: total, disk: resources.disk,
                byProcess: byProcess)
            try? resources.history.add(snapshot.timestamp, entry)
        }
    }

    /// Measures the sandbox (bounded by `timeout` seconds) and keeps the result.
    func collectDisk(timeout: Double) {
        guard let sandbox = state.header?.sandbox, sandbox.hasPrefix("/") else { return }
        let measurement = DiskUsage.measure(sandbox, deadline: wallClock() + timeout)
        resources.withLock { $0.disk = measurement.bytes }
    }
}

/// The sampling state of one task.
struct TaskResources: Sendable {
    struct Key: Hashable, Sendable {
        var process: String
        var run: Int
        var pid: Int32
    }

    var collectors: [Key: ProcessTreeCollector] = [:]
    var history: ResourceHistory<TaskResourceSample>
    var disk: Int64 = 0
}
