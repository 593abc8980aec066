import Glibc

/// Finds the tasks of a Thermos root by their task files (`tasks/active|finished/<id>`), the
/// original's `TaskDetector`. Task ids are returned sorted, so listings are stable.
public struct TaskDetector: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// One task found under the root.
    public struct Entry: Sendable, Hashable {
        public var taskID: String
        public var directory: TaskPath.TaskDirectory
    }

    /// Task ids in `tasks/<directory>` (both directories when nil), active first, each sorted.
    public func taskIDs(in directory: TaskPath.TaskDirectory? = nil) -> [Entry] {
        let directories = directory.map { [$0] } ?? TaskPath.TaskDirectory.allCases
        return directories.flatMap { directory in
            Self.listDirectory("\(root)/tasks/\(directory.rawValue)")
                .sorted()
                .map { Entry(taskID: $0, directory: directory) }
        }
    }

    /// `coordinator.<process>` checkpoint paths of a task, sorted.
    public func processCheckpoints(taskID: String) -> [String] {
        let directory = TaskPath.checkpointDirectory(root: root, taskID: taskID)
        return Self.listDirectory(directory)
            .filter { $0.hasPrefix("coordinator.") }
            .sorted()
            .map { "\(directory)/\($0)" }
    }

    /// `(process, run)` pairs that have a log directory under `logBase`, sorted.
    public func processRuns(logBase: String) -> [(process: String, run: Int)] {
        var runs: [(process: String, run: Int)] = []
        for process in Self.listDirectory(logBase).sorted() {
            for run in Self.listDirectory("\(logBase)/\(process)").compactMap({ Int($0) }).sorted() {
                runs.append((process, run))
            }
        }
        return runs
    }

    /// Names in a directory except `.` and `..`, unsorted; empty if it cannot be read.
    public static func listDirectory(_ path: String) -> [String] {
        guard let handle = opendir(path) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
