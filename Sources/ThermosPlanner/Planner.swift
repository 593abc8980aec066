public import ThermosConfig

/// Pure set algebra over a fixed set of process names and their prerequisites: which processes may
/// start now, given which are running, finished or failed (the original's `Planner`).
///
/// A process is runnable when it is not running, finished or failed and every prerequisite has
/// finished. A failed prerequisite never counts as finished, so its dependents stay blocked forever.
public struct Planner: Sendable, Hashable {
    /// Every process this planner schedules.
    public let processes: Set<String>
    /// process name → names of the processes that must finish before it may run
    /// (only processes of `processes` appear as keys).
    public let prerequisites: [String: Set<String>]
    /// Processes currently marked running.
    public private(set) var running: Set<String> = []
    /// Processes that finished for good.
    public private(set) var finished: Set<String> = []
    /// Processes that failed for good.
    public private(set) var failed: Set<String> = []
    /// process name → the processes that list it as a prerequisite.
    private let dependents: [String: Set<String>]
    /// `runnable`, kept up to date by every transition (each touches only the process and its
    /// dependents) instead of recomputed over every process on each call.
    private var runnableNow: Set<String> = []

    /// Creates a planner over `processes` with the given prerequisites.
    ///
    /// Throws `InvalidSchedule("Cycles detected in the task schedule!")` if not every process can
    /// ever become runnable: a dependency cycle, or (as in the original) a prerequisite that is not
    /// one of `processes`, which could never finish.
    public init<Names: Sequence<String>>(
        processes: Names, prerequisites: [String: Set<String>] = [:]
    ) throws(InvalidSchedule) {
        let processSet = Set(processes)
        let relevant = prerequisites.filter { processSet.contains($0.key) && !$0.value.isEmpty }
        if relevant.values.contains(where: { !$0.isSubset(of: processSet) }) {
            throw InvalidSchedule("Cycles detected in the task schedule!")
        }
        try ProcessDependencies(prerequisites: relevant).checkSatisfiable(processes: processSet)
        self.processes = processSet
        self.prerequisites = relevant
        var dependents: [String: Set<String>] = [:]
        for (process, required) in relevant {
            for prerequisite in required { dependents[prerequisite, default: []].insert(process) }
        }
        self.dependents = dependents
        runnableNow = processSet.filter(isRunnable)
    }

    /// Processes that may start now: not running, finished or failed, all prerequisites finished.
    public var runnable: Set<String> { runnableNow }

    /// Whether `process` may start now (see `runnable`).
    public func isRunnable(_ process: String) -> Bool {
        processes.contains(process)
            && !running.contains(process) && !finished.contains(process) && !failed.contains(process)
            && prerequisites[process, default: []].isSubset(of: finished)
    }

    /// Where `process` currently stands.
    public func state(of process: String) -> ProcessPlanState {
        if !processes.contains(process) { return .unknown }
        if running.contains(process) { return .running }
        if finished.contains(process) { return .finished }
        if failed.contains(process) { return .failed }
        return isRunnable(process) ? .runnable : .blocked
    }

    /// True when every process has finished or failed (the two never overlap, and hold only
    /// scheduled processes).
    public var isComplete: Bool {
        finished.count + failed.count == processes.count
    }

    /// Marks `process` running. Allowed when it is runnable or already running (a no-op then);
    /// otherwise throws `PlannerError.Code.notRunnable`.
    public mutating func setRunning(_ process: String) throws(PlannerError) {
        let current = state(of: process)
        guard current == .running || current == .runnable else {
            throw PlannerError(.notRunnable, process: process, actualState: current, operation: "set running")
        }
        running.insert(process)
        runnableNow.remove(process)
    }

    /// Moves a running `process` to finished; throws `PlannerError.Code.notRunning` otherwise.
    public mutating func setFinished(_ process: String) throws(PlannerError) {
        try requireRunning(process, for: "set finished")
        running.remove(process)
        finished.insert(process)
        for dependent in dependents[process] ?? [] where isRunnable(dependent) { runnableNow.insert(dependent) }
    }

    /// Moves a running `process` to failed; throws `PlannerError.Code.notRunning` otherwise.
    public mutating func setFailed(_ process: String) throws(PlannerError) {
        try requireRunning(process, for: "set failed")
        running.remove(process)
        failed.insert(process)
    }

    /// Takes a running `process` back out of running so it is runnable again;
    /// throws `PlannerError.Code.notRunning` otherwise.
    public mutating func reset(_ process: String) throws(PlannerError) {
        try requireRunning(process, for: "reset")
        running.remove(process)
        if isRunnable(process) { runnableNow.insert(process) }
    }

    /// Throws `PlannerError.Code.notRunning` unless `process` is running; `operation` names the
    /// refused transition in the message.
    func requireRunning(_ process: String, for operation: String) throws(PlannerError) {
        guard running.contains(process) else {
            throw PlannerError(.notRunning, process: process, actualState: state(of: process), operation: operation)
        }
    }
}
