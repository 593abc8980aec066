import Glibc
import Synchronization
import ThermosCheckpoint

/// How often the observer looks at tasks and resources.
public struct ObserverSettings: Sendable, Hashable {
    /// Safety-net rescan period (inotify reports changes at once).
    public var pollingInterval: Double = 5
    /// Process-tree sampling period.
    public var processCollectionInterval: Double = 20
    /// Sandbox disk-usage period.
    public var diskCollectionInterval: Double = 60
    /// Longest a single sandbox walk may take before its partial result is kept.
    public var diskCollectionTimeout: Double = 5
    /// How much resource history to keep per task.
    public var historyTime: Double = 3600
    /// False: no sampling at all (`--disable-task-resource-collection`); resources read as zeros.
    public var resourceCollection = true

    public init() {}

    /// Entries per task history: `historyTime / min(process, disk interval)`.
    public func historyLength() throws(HistoryError) -> Int {
        try ResourceHistory<TaskResourceSample>.length(
            historyTime: historyTime, interval: min(processCollectionInterval, diskCollectionInterval))
    }
}

/// Which tasks a listing wants.
public enum TaskListType: String, Sendable, CaseIterable {
    case all, active, finished
}

/// The observer core (the original's `TaskObserver`): keeps the task universe of several roots
/// current (`refresh()`, driven by inotify and a periodic rescan), an incremental `TaskMonitor`
/// per task, and the resource samplers (`sampleProcesses()`, `collectDisk()`). It owns no
/// threads: the observer runs these as services. Queries read at most new checkpoint bytes.
public final class TaskObserver: Sendable {
    public let roots: [String]
    public let settings: ObserverSettings
    private let historyLength: Int
    /// inotify on the roots' task directories (the rescan service waits on it).
    public let watcher: RootWatcher

    /// A known task and its place.
    public struct Entry: Sendable {
        public var location: TaskLocation
        /// mtime of the task file (seconds since the epoch).
        public var mtime: Double
        public var task: ObservedTask
    }

    private struct Universe {
        var transitions = TaskTransitions()
        var entries: [String: Entry] = [:]
        /// Entries sorted newest first, rebuilt after a change.
        var sorted: [Entry]? = nil
        var refreshCount = 0
        var errors: [TaskTransitionError] = []
    }

    private let universe = Mutex(Universe())
    private let lastSampling = Mutex<(seconds: Double, processes: Int)>((0, 0))

    public init(roots: [String], settings: ObserverSettings = ObserverSettings()) throws(HistoryError) {
        self.roots = roots
        self.settings = settings
        historyLength = try settings.historyLength()
        watcher = RootWatcher(roots: roots)
    }

    /// Rescans the roots and applies the transitions. Returns the events.
    @discardableResult
    public func refresh() -> [TaskEvent] {
        watcher.rewatch()
        let scan = TaskTransitions.scan(roots: roots)
        return universe.withLock { universe in
            let (events, errors) = universe.transitions.apply(scan)
            universe.refreshCount += 1
            universe.errors.append(contentsOf: errors)
            for event in events {
                switch event {
                case .active(let location):
                    let task = ObservedTask(
                        root: location.root, taskID: location.taskID, finished: location.directory == .finished,
                        historyLength: historyLength)
                    universe.entries[location.taskID] = Entry(location: location, mtime: Self.mtime(location.taskFile), task: task)
                case .finished(let location):
                    universe.entries[location.taskID]?.task.markFinished()
                    universe.entries[location.taskID]?.location = location
                    universe.entries[location.taskID]?.mtime = Self.mtime(location.taskFile)
                case .removed(let taskID):
                    universe.entries[taskID] = nil
                }
            }
            if !events.isEmpty { universe.sorted = nil }
            return events
        }
    }

    /// Tasks of a type, newest task file first.
    public func tasks(_ type: TaskListType = .all) -> [Entry] {
        let sorted = universe.withLock { universe -> [Entry] in
            if let sorted = universe.sorted { return sorted }
            let sorted = universe.entries.values.sorted {
                $0.mtime != $1.mtime ? $0.mtime > $1.mtime : $0.location.taskID < $1.location.taskID
            }
            universe.sorted = sorted
            return sorted
        }
        switch type {
        case .all: return sorted
        case .active: return sorted.filter { $0.location.directory == .active }
        case .finished: return sorted.filter { $0.location.directory == .finished }
        }
    }

    /// The task with this id, if known.
    public func task(_ taskID: String) -> Entry? {
        universe.withLock { $0.entries[taskID] }
    }

    /// Number of known tasks by directory.
    public func counts() -> (active: Int, finished: Int) {
        universe.withLock { universe in
            let active = universe.entries.values.count { $0.location.directory == .active }
            return (active, universe.entries.count - active)
        }
    }

    /// Rescans done so far.
    public var refreshCount: Int { universe.withLock { $0.refreshCount } }

    /// Samples the process trees of every active task from one `/proc` snapshot.
    public func sampleProcesses(_ snapshot: ProcSnapshot? = nil) {
        let started = wallClock()
        let snapshot = snapshot ?? .take()
        for entry in tasks(.active) { entry.task.sampleProcesses(snapshot) }
        lastSampling.withLock { $0 = (wallClock() - started, snapshot.processes.count) }
    }

    /// Duration of the last sampling round (including the /proc scan) and the processes seen.
    public var lastSamplingRound: (seconds: Double, processes: Int) { lastSampling.withLock { $0 } }

    /// Measures the sandbox of every active task.
    public func collectDisk() {
        for entry in tasks(.active) { entry.task.collectDisk(timeout: settings.diskCollectionTimeout) }
    }

    static func mtime(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }
}
