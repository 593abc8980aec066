import ThermosCheckpoint
public import ThermosMonitor

/// Where a task's served files live: its sandbox (pinned to the directory first seen) and its
/// log directory, which is resolved beneath the sandbox when it lies inside it (the usual
/// `<sandbox>/.logs`, which the task may replace) and beneath its own descriptor otherwise.
public struct TaskFiles: Sendable {
    public let observer: TaskObserver

    public init(observer: TaskObserver) {
        self.observer = observer
    }

    /// The task's sandbox directory.
    public func sandbox(_ taskID: String) -> Result<ConfinedDirectory, FileRefusal> {
        guard let entry = observer.task(taskID), let path = entry.task.state.header?.sandbox, path.hasPrefix("/") else {
            return .failure(FileRefusal(code: .notFound, path: taskID))
        }
        return Self.pinned(entry.task, path)
    }

    static func pinned(_ task: ObservedTask, _ path: String) -> Result<ConfinedDirectory, FileRefusal> {
        ConfinedDirectory.open(path).flatMap { directory in
            let identity = ObservedTask.SandboxIdentity(device: directory.identity.device, inode: directory.identity.inode)
            return task.isPinnedSandbox(identity) ? .success(directory) : .failure(FileRefusal(code: .replaced, path: path))
        }
    }

    /// A regular file of the sandbox.
    public func sandboxFile(_ taskID: String, _ relative: String) -> Result<OpenedFile, FileRefusal> {
        sandbox(taskID).flatMap { $0.openFile(relative) }
    }

    /// `<log dir>/<process>/<run>/<stdout|stderr>`; the process must be one path component.
    public func logFile(_ taskID: String, process: String, run: Int, logType: String) -> Result<OpenedFile, FileRefusal> {
        guard logType == "stdout" || logType == "stderr", run >= 0, !process.isEmpty, process != ".", process != "..",
              !process.contains("/"), !process.utf8.contains(0), let entry = observer.task(taskID)
        else { return .failure(FileRefusal(code: .badPath, path: process)) }
        let header = entry.task.state.header
        let base = TaskPath.logBase(root: entry.location.root, taskID: taskID, header: header)
        let inside = "\(process)/\(run)/\(logType)"
        if let sandbox = header?.sandbox, sandbox.hasPrefix("/"), let relative = Self.relative(base, to: sandbox) {
            return Self.pinned(entry.task, sandbox).flatMap { $0.openFile(relative.isEmpty ? inside : relative + "/" + inside) }
        }
        return ConfinedDirectory.open(base).flatMap { $0.openFile(inside) }
    }

    /// `path` relative to `directory` if it is inside it (lexically, after removing `.` and
    /// empty components; `..` anywhere makes it "not inside").
    static func relative(_ path: String, to directory: String) -> String? {
        func parts(_ text: String) -> [Substring]? {
            let parts = text.split(separator: "/").filter { $0 != "." }
            return parts.contains("..") ? nil : parts
        }
        guard let pathParts = parts(path), let directoryParts = parts(directory),
              pathParts.count >= directoryParts.count, Array(pathParts.prefix(directoryParts.count)) == directoryParts
        else { return nil }
        return pathParts.dropFirst(directoryParts.count).joined(separator: "/")
    }

    /// The task's `checkpoints/<id>/probes.json`, read beneath the checkpoint directory without
    /// following a link, regular files only, non-blocking, at most `ProbeStatusDocument.maximumSize`
    /// bytes. Nil (no probe data) when it is missing, refused, oversized or malformed.
    public func probes(_ taskID: String) -> ProbeStatusDocument? {
        guard let entry = observer.task(taskID) else { return nil }
        let directory = TaskPath.checkpointDirectory(root: entry.location.root, taskID: taskID)
        guard case .success(let file) = ConfinedDirectory.open(directory).flatMap({ $0.openFile("probes.json", followingFinalLink: false) }),
              file.size <= Int64(ProbeStatusDocument.maximumSize)
        else { return nil }
        // One byte more than the cap: a file that grew after fstat is refused, not truncated.
        return ProbeStatusDocument(bytes: file.read(at: 0, count: ProbeStatusDocument.maximumSize + 1))
    }
}
