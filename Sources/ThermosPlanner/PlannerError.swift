/// A state transition that the planner refuses because the process is not in the state the
/// transition requires. The original Python planner `assert`s in these places; here the caller
/// gets a typed error naming the process, the state it had to be in and the state it was in.
public struct PlannerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which precondition was violated (extensible: new codes do not break callers' switches).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// What the process had to be for the transition.
        let expected: String
        private init(_ name: String, expected: String) {
            self.name = name
            self.expected = expected
        }

        public var description: String { name }

        /// `setRunning` of a process that is neither running nor runnable
        /// (finished, failed, waiting on unfinished prerequisites, or unknown).
        public static let notRunnable = Code("notRunnable", expected: "running or runnable")
        /// `setFinished`, `setFailed`, `reset` (or a `TaskPlanner` outcome such as `addSuccess`,
        /// `addFailure`, `lost`) of a process that is not running.
        public static let notRunning = Code("notRunning", expected: "running")
    }

    /// Which precondition was violated.
    public var code: Code
    /// The process the transition was asked for.
    public var process: String
    /// What the process actually was when the transition was refused.
    public var actualState: ProcessPlanState
    /// A human-readable explanation naming the process and the expected and actual states.
    public var message: String

    /// Creates an error for `process`, which was `actualState` when a transition needing `code`'s
    /// precondition was requested as `operation` (used in the message, e.g. `set finished`).
    public init(_ code: Code, process: String, actualState: ProcessPlanState, operation: String) {
        self.code = code
        self.process = process
        self.actualState = actualState
        self.message = "Cannot \(operation) process \(process): expected it to be \(code.expected), but it is \(actualState)"
    }

    /// The message.
    public var description: String { message }
}

/// Where a process stands in a `Planner`, as reported in a `PlannerError`.
public enum ProcessPlanState: String, Sendable, Hashable, CustomStringConvertible {
    /// Not part of the planner's process set.
    case unknown
    /// Its prerequisites are finished and it is not running, finished or failed.
    case runnable
    /// Not running, finished or failed, but some prerequisite has not finished.
    case blocked
    /// Marked running.
    case running
    /// Marked finished.
    case finished
    /// Marked failed.
    case failed

    /// The raw name, e.g. `finished`.
    public var description: String { rawValue }
}
