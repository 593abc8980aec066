public import ThermosCheckpoint

/// A task file found under a root: where, and in which directory.
public struct TaskLocation: Sendable, Hashable {
    public var root: String
    public var taskID: String
    public var directory: TaskPath.TaskDirectory

    public init(root: String, taskID: String, directory: TaskPath.TaskDirectory) {
        self.root = root
        self.taskID = taskID
        self.directory = directory
    }

    /// `<root>/tasks/<directory>/<taskID>`.
    public var taskFile: String { TaskPath.taskFile(root: root, taskID: taskID, state: directory) }
}

/// What changed for a task between two scans (the original `ObserverTaskDetector` callbacks).
public enum TaskEvent: Sendable, Hashable {
    case active(TaskLocation)
    case finished(TaskLocation)
    case removed(taskID: String)
}

/// A task went from finished back to active, which the original treats as impossible.
public struct TaskTransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// finished → active.
        public static let unexpectedState = Code("unexpectedState")
    }

    public var code: Code
    public var taskID: String
    public var description: String { "Unexpected state: task \(taskID) went from finished to active" }
}

/// The set of known tasks and the events that move it from one scan to the next, with the
/// original's transition table (reference §1.14, §6.19): new active → active; new finished →
/// active + finished; active → finished → finished; active → gone → finished + removed;
/// finished → gone → removed; finished → active → error (the task keeps its finished state).
/// Tasks are keyed by task id, like the original, so the first root listing an id wins.
public struct TaskTransitions: Sendable {
    public private(set) var known: [String: TaskLocation] = [:]

    public init() {}

    /// Applies a scan (every task location found now) and returns the events in a stable order
    /// (by task id) plus the ids that made an impossible finished → active move.
    public mutating func apply(_ scan: [TaskLocation]) -> (events: [TaskEvent], errors: [TaskTransitionError]) {
        var current: [String: TaskLocation] = [:]
        for location in scan {
            // Finished wins over active: the runner creates the finished file before removing
            // the active one.
            if let existing = current[location.taskID], existing.directory == .finished { continue }
            current[location.taskID] = location
        }
        var events: [TaskEvent] = []
        var errors: [TaskTransitionError] = []
        for taskID in Set(known.keys).union(current.keys).sorted() {
            switch (known[taskID], current[taskID]) {
            case (nil, let now?):
                events.append(.active(now))
                if now.directory == .finished { events.append(.finished(now)) }
                known[taskID] = now
            case (let before?, nil):
                if before.directory == .active { events.append(.finished(before)) }
                events.append(.removed(taskID: taskID))
                known[taskID] = nil
            case (let before?, let now?):
                if before.directory == .active && now.directory == .finished {
                    events.append(.finished(now))
                    known[taskID] = now
                } else if before.directory == .finished && now.directory == .active {
                    errors.append(TaskTransitionError(code: .unexpectedState, taskID: taskID))
                } else {
                    known[taskID] = now
                }
            case (nil, nil):
                break
            }
        }
        return (events, errors)
    }

    /// Every task file under `roots` (`tasks/active|finished/<id>`), roots in order.
    public static func scan(roots: [String]) -> [TaskLocation] {
        roots.flatMap { root in
            TaskDetector(root: root).taskIDs().map { TaskLocation(root: root, taskID: $0.taskID, directory: $0.directory) }
        }
    }
}
