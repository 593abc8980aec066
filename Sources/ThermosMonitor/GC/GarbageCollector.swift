import Glibc
public import ThermosCheckpoint

/// Which finished tasks `gc` collects and what it deletes of them (reference §1.11, DESIGN §2.7).
public struct GCPolicy: Sendable, Hashable {
    /// Collect tasks older than this many seconds (age = now − mtime of the runner checkpoint).
    public var maxAge: Int64?
    /// Keep at most this many finished tasks.
    public var maxTasks: Int?
    /// Keep the finished tasks' data (+ logs, metadata when those are deleted) under this many bytes.
    public var maxSpace: Int64?
    public var deleteData = false
    public var deleteLogs = false
    public var deleteMetadata = false

    public init() {}
}

/// A finished task, with what collecting it would free.
public struct GCCandidate: Sendable, Hashable {
    public var root: String
    public var taskID: String
    /// Seconds since the runner checkpoint was last written.
    public var age: Int64
    public var metadataSize: Int64
    public var logSize: Int64
    public var dataSize: Int64
    /// The final task state (nil if the checkpoint cannot be read).
    public var state: TaskState?
    public var sandbox: String?
    public var logBase: String

    /// FAILED and LOST tasks are kept longest among tasks of equal age.
    public var failed: Bool { state == .failed || state == .lost }

    /// Bytes counted against `maxSpace`: data, plus metadata and logs when those are deleted.
    public func accountedSize(_ policy: GCPolicy) -> Int64 {
        dataSize + (policy.deleteMetadata ? metadataSize : 0) + (policy.deleteLogs ? logSize : 0)
    }
}

/// Finds, ranks and erases finished tasks of one root. Never touches an active task and never
/// follows a symlink while deleting (a link out of a sandbox is removed, not its target).
public struct GarbageCollector: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Every finished task of the root that is not also active, measured.
    public func finishedTasks(now: Double = wallClock()) -> [GCCandidate] {
        TaskDetector(root: root).taskIDs(in: .finished).compactMap { entry in
            isActive(entry.taskID) ? nil : candidate(entry.taskID, now: now)
        }
    }

    /// Measures one finished task.
    public func candidate(_ taskID: String, now: Double = wallClock()) -> GCCandidate {
        let runner = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        let replayed = try? RunnerState.replaying(path: runner).state
        let header = replayed?.header
        let logBase = TaskPath.logBase(root: root, taskID: taskID, header: header)
        let mtime = TaskObserver.mtime(runner) > 0 ? TaskObserver.mtime(runner) : TaskObserver.mtime(taskFile(taskID))
        let sandbox = header?.sandbox.flatMap { $0.hasPrefix("/") ? $0 : nil }
        return GCCandidate(
            root: root, taskID: taskID, age: Int64(now - mtime), metadataSize: metadataPaths(taskID).reduce(0) { $0 + DiskUsage.measure($1).bytes },
            logSize: DiskUsage.measure(logBase).bytes, dataSize: sandbox.map { DiskUsage.measure($0).bytes } ?? 0,
            state: replayed?.taskState, sandbox: sandbox, logBase: logBase)
    }

    /// The tasks to collect, oldest first. Ranking: oldest first, and among equal ages the
    /// non-failed before the failed, so the newest and the failed are kept longest.
    /// (1) older than `maxAge`; (2) oldest until the rest fits in `maxSpace`; (3) oldest until
    /// at most `maxTasks` remain. (The original's space filter dropped the newest; we keep them.)
    public static func select(_ candidates: [GCCandidate], policy: GCPolicy, log: (String) -> Void = { _ in }) -> [GCCandidate] {
        let ranked = candidates.sorted {
            if $0.age != $1.age { return $0.age > $1.age }
            if $0.failed != $1.failed { return !$0.failed }
            return $0.taskID < $1.taskID
        }
        var collected = Set<String>()
        if let maxAge = policy.maxAge {
            for task in ranked where task.age > maxAge { collected.insert(task.taskID) }
        }
        log("After age filter: \(ranked.count - collected.count) tasks")
        if let maxSpace = policy.maxSpace {
            var total = ranked.filter { !collected.contains($0.taskID) }.reduce(0) { $0 + $1.accountedSize(policy) }
            for task in ranked where !collected.contains(task.taskID) && total > maxSpace {
                collected.insert(task.taskID)
                total -= task.accountedSize(policy)
            }
        }
        log("After size filter: \(ranked.count - collected.count) tasks")
        if let maxTasks = policy.maxTasks {
            for task in ranked where !collected.contains(task.taskID) && ranked.count - collected.count > maxTasks {
                collected.insert(task.taskID)
            }
        }
        log("After total task filter: \(ranked.count - collected.count) tasks")
        return ranked.filter { collected.contains($0.taskID) }
    }

    /// True while `tasks/active/<id>` exists.
    public func isActive(_ taskID: String) -> Bool {
        TaskMonitor.exists(TaskPath.taskFile(root: root, taskID: taskID, state: .active))
    }

    func taskFile(_ taskID: String) -> String {
        TaskPath.taskFile(root: root, taskID: taskID, state: .finished)
    }

    /// `tasks/finished/<id>` and `checkpoints/<id>`.
    public func metadataPaths(_ taskID: String) -> [String] {
        [taskFile(taskID), TaskPath.checkpointDirectory(root: root, taskID: taskID)]
    }

    /// What `erase` would delete, by kind, in order: data, logs, metadata.
    public func plan(_ task: GCCandidate, policy: GCPolicy) -> [(kind: String, path: String)] {
        var paths: [(String, String)] = []
        var dataPath: String?
        if policy.deleteData, let sandbox = task.sandbox, isSafeToDelete(sandbox) {
            paths.append(("data", sandbox))
            dataPath = sandbox
        }
        // Logs inside a sandbox being deleted go with it (the default log_dir is <sandbox>/.logs).
        let logsInsideData = dataPath.map { task.logBase.hasPrefix($0 + "/") } ?? false
        if policy.deleteLogs, !logsInsideData, isSafeToDelete(task.logBase) { paths.append(("logs", task.logBase)) }
        if policy.deleteMetadata { paths += metadataPaths(task.taskID).map { ("metadata", $0) } }
        return paths
    }

    /// Deletes what the policy says of `task` (nothing if it became active meanwhile), calling
    /// `log` once per path deleted (or that would be, with `dryRun`). Returns the paths.
    @discardableResult
    public func erase(_ task: GCCandidate, policy: GCPolicy, dryRun: Bool, log: (String) -> Void) -> [String] {
        guard !isActive(task.taskID) else {
            log("    task \(task.taskID) is active; not collecting it")
            return []
        }
        var done: [String] = []
        for (kind, path) in plan(task, policy: policy) {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if dryRun {
                log("    would delete \(kind) \(path)")
            } else {
                let count = Self.removeTree(path)
                log("    deleted \(kind) \(path) (\(count) entries)")
            }
            done.append(path)
        }
        return done
    }

    /// Refuses `/`, relative paths, and anything that contains the checkpoint root.
    func isSafeToDelete(_ path: String) -> Bool {
        guard path.hasPrefix("/"), path != "/" else { return false }
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return !(root == trimmed || root.hasPrefix(trimmed + "/"))
    }

    /// Removes a file or a directory tree without following symlinks; returns entries removed.
    static func removeTree(_ path: String) -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        guard info.st_mode & S_IFMT == S_IFDIR else { return unlink(path) == 0 ? 1 : 0 }
        var count = 0
        for name in TaskDetectorListing.names(path) { count += removeTree(path + "/" + name) }
        return count + (rmdir(path) == 0 ? 1 : 0)
    }
}

/// Directory listing shared by the GC and the observer's sandbox browser.
public enum TaskDetectorListing {
    /// Names in a directory except `.` and `..` (empty if it cannot be read), unsorted.
    public static func names(_ path: String) -> [String] {
        TaskDetector.listDirectory(path)
    }
}
