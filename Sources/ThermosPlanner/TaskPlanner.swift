public import ThermosConfig

/// Schedules the processes of one task (or of the subset a filter selects), on top of `Planner`,
/// with the original `TaskPlanner`'s rules:
///
/// * a process that terminated waits `min_duration` seconds after its last termination before it
///   is ready again (success, failure and loss alike);
/// * a daemon that succeeds is reset to be run again; any other process that succeeds finishes;
/// * a failure resets the process while it is under `max_failures` (`0` = retry forever); past it,
///   an ephemeral process finishes (never fails) and any other process fails;
/// * a lost or killed run resets the process without consuming a failure;
/// * once successes + failures + losses reach `totalRunLimit`, the process fails;
/// * the task is complete when every non-ephemeral process has finished or failed.
///
/// There is no clock: every time-dependent call takes the current time in seconds.
public struct TaskPlanner: Sendable, Hashable {
    /// The restart rules of one process, taken from its `ProcessConfig`.
    public struct ProcessAttributes: Sendable, Hashable {
        /// Seconds between the end of one run and the start of the next.
        public var minDuration: Double
        /// Re-run after success.
        public var isDaemon: Bool
        /// Failures before the process fails for good; 0 = never.
        public var maxFailures: Int
        /// Not waited for when deciding task completion; exhausting its failures finishes it.
        public var isEphemeral: Bool

        /// The attributes of `process`.
        public init(_ process: ProcessConfig) {
            minDuration = Double(process.minDuration)
            isDaemon = process.daemon
            maxFailures = process.maxFailures
            isEphemeral = process.ephemeral
        }
    }

    /// Where a process went after `addSuccess`, `addFailure` or `lost`.
    public enum Outcome: Sendable, Hashable {
        /// Back to runnable (after its `min_duration`): a daemon success, a failure under the
        /// limit, or a loss.
        case rescheduled
        /// Finished for good: a non-daemon success, or an ephemeral past its failure limit.
        case finished
        /// Failed for good: past its failure limit, or at the run limit.
        case failed
    }

    /// `min_wait` when nothing is runnable and nothing is waiting (`sys.float_info.max`).
    public static let infinity = Double.greatestFiniteMagnitude
    /// The run limit of the `thermos` CLI: effectively unlimited (`sys.maxsize`).
    public static let unlimitedRuns = Int.max
    /// The run limit `thermos runner` uses (the original's `CappedTaskPlanner`).
    public static let runnerRunLimit = 100

    /// The dependency state of the scheduled processes.
    public private(set) var planner: Planner
    /// Restart rules of every scheduled process.
    public let attributes: [String: ProcessAttributes]
    /// Scheduled processes that are ephemeral.
    public let ephemerals: Set<String>
    /// Runs (successes + failures + losses) after which a process fails regardless of its rules.
    public let totalRunLimit: Int

    private var lastTermination: [String: Double] = [:]
    private var successCounts: [String: Int] = [:]
    private var failureCounts: [String: Int] = [:]
    private var lossCounts: [String: Int] = [:]

    /// Creates a planner for the processes of `task` that `processFilter` selects (all when nil),
    /// ordered by the task's constraints (`ProcessDependencies.extract`).
    ///
    /// Throws `InvalidSchedule` for invalid orders (mixing selected and unselected processes,
    /// depending on a daemon, a non-ephemeral depending on an ephemeral) and for cycles.
    public init(
        task: TaskConfig,
        processFilter: ((ProcessConfig) -> Bool)? = nil,
        totalRunLimit: Int = TaskPlanner.unlimitedRuns
    ) throws(InvalidSchedule) {
        let selected = task.processes.filter { processFilter?($0) ?? true }
        let dependencies = try ProcessDependencies.extract(from: task, including: processFilter)
        planner = try Planner(processes: selected.map(\.name), prerequisites: dependencies.prerequisites)
        var attributes: [String: ProcessAttributes] = [:]
        for process in selected {
            attributes[process.name] = ProcessAttributes(process)
        }
        self.attributes = attributes
        ephemerals = Set(selected.filter(\.ephemeral).map(\.name))
        self.totalRunLimit = totalRunLimit
    }

    // MARK: - State

    /// Every scheduled process.
    public var processes: Set<String> { planner.processes }
    /// Processes marked running.
    public var running: Set<String> { planner.running }
    /// Processes finished for good.
    public var finished: Set<String> { planner.finished }
    /// Processes failed for good.
    public var failed: Set<String> { planner.failed }

    /// Processes whose prerequisites are finished and which are not running, finished or failed,
    /// whether or not their `min_duration` has elapsed: `runnableAt(t) ∪ waitingAt(t)` for any `t`.
    public var runnable: Set<String> { planner.runnable }

    /// True when every non-ephemeral process has finished or failed (running ephemerals do not
    /// hold the task up).
    public var isComplete: Bool {
        // Finished and failed never overlap and hold only scheduled processes, as do ephemerals.
        let settled = planner.finished.count + planner.failed.count
        return settled + ephemerals.lazy.filter { !self.planner.finished.contains($0) && !self.planner.failed.contains($0) }.count
            == planner.processes.count
    }

    /// True when the plan can make no further progress yet is not complete: nothing running,
    /// nothing runnable or waiting (e.g. every remaining process depends on a failed one).
    public var isDeadlocked: Bool {
        planner.running.isEmpty && planner.runnable.isEmpty && !isComplete
    }

    /// Successful runs of `process` so far.
    public func successes(of process: String) -> Int { successCounts[process, default: 0] }
    /// Failed runs of `process` so far.
    public func failures(of process: String) -> Int { failureCounts[process, default: 0] }
    /// Lost or killed runs of `process` so far.
    public func losses(of process: String) -> Int { lossCounts[process, default: 0] }

    /// True once successes + failures + losses of `process` reach `totalRunLimit`.
    public func hasReachedRunLimit(_ process: String) -> Bool {
        successes(of: process) + failures(of: process) + losses(of: process) >= totalRunLimit
    }

    // MARK: - Time

    /// Seconds until `process` may run again at time `now`: 0 if it never terminated, else its
    /// `min_duration` minus the time since its last termination (negative once past).
    public func getWait(_ process: String, at now: Double) -> Double {
        guard let last = lastTermination[process] else { return 0 }
        let minDuration = attributes[process]?.minDuration ?? 0
        return minDuration - (now - last)
    }

    /// Whether `process`'s `min_duration` has elapsed at `now` (wait ≤ 0).
    public func isReady(_ process: String, at now: Double) -> Bool {
        getWait(process, at: now) <= 0
    }

    /// Runnable processes whose `min_duration` has elapsed at `now`.
    public func runnableAt(_ now: Double) -> Set<String> {
        planner.runnable.filter { isReady($0, at: now) }
    }

    /// Runnable processes still inside their `min_duration` at `now`.
    public func waitingAt(_ now: Double) -> Set<String> {
        planner.runnable.filter { !isReady($0, at: now) }
    }

    /// 0 if something is ready at `now`; else the smallest wait among waiting processes;
    /// else `TaskPlanner.infinity`.
    public func minWait(_ now: Double) -> Double {
        if !runnableAt(now).isEmpty { return 0 }
        return waitingAt(now).map { getWait($0, at: now) }.min() ?? TaskPlanner.infinity
    }

    // MARK: - Transitions

    /// Marks `process` running (allowed when runnable — even while still waiting out its
    /// `min_duration` — or already running); throws `PlannerError.Code.notRunnable` otherwise.
    public mutating func setRunning(_ process: String) throws(PlannerError) {
        try planner.setRunning(process)
    }

    /// Forces a running `process` to failed, regardless of its rules.
    public mutating func setFailed(_ process: String) throws(PlannerError) {
        try planner.setFailed(process)
    }

    /// Records a successful run of the running `process` ending at `time`: failed at the run limit,
    /// else rescheduled if a daemon, else finished. Throws `notRunning` (changing nothing) if it
    /// is not running.
    @discardableResult
    public mutating func addSuccess(_ process: String, at time: Double) throws(PlannerError) -> Outcome {
        try planner.requireRunning(process, for: "record a success of")
        lastTermination[process] = time
        successCounts[process, default: 0] += 1
        if hasReachedRunLimit(process) { return try conclude(process, .failed) }
        return try conclude(process, attributes[process]?.isDaemon == true ? .rescheduled : .finished)
    }

    /// Records a failed run of the running `process` ending at `time`: failed at the run limit;
    /// else rescheduled while under `max_failures` (or when it is 0); else finished if ephemeral,
    /// failed otherwise. Throws `notRunning` (changing nothing) if it is not running.
    @discardableResult
    public mutating func addFailure(_ process: String, at time: Double) throws(PlannerError) -> Outcome {
        try planner.requireRunning(process, for: "record a failure of")
        lastTermination[process] = time
        failureCounts[process, default: 0] += 1
        if hasReachedRunLimit(process) { return try conclude(process, .failed) }
        let maxFailures = attributes[process]?.maxFailures ?? 1
        if maxFailures == 0 || failures(of: process) < maxFailures {
            return try conclude(process, .rescheduled)
        }
        return try conclude(process, ephemerals.contains(process) ? .finished : .failed)
    }

    /// Records a lost or killed run of the running `process` ending at `time`: it does not consume
    /// a failure but is throttled by `min_duration` and counts toward the run limit (failed at the
    /// limit, else rescheduled). Throws `notRunning` (changing nothing) if it is not running.
    @discardableResult
    public mutating func lost(_ process: String, at time: Double) throws(PlannerError) -> Outcome {
        try planner.requireRunning(process, for: "record a loss of")
        lastTermination[process] = time
        lossCounts[process, default: 0] += 1
        return try conclude(process, hasReachedRunLimit(process) ? .failed : .rescheduled)
    }

    /// Records a run of the running `process` ended by an operator (`thermos restart|stop`): it
    /// is runnable again at once — no `min_duration` wait, and no failure, loss or run counted.
    /// Throws `notRunning` (changing nothing) if it is not running.
    public mutating func endedByControl(_ process: String) throws(PlannerError) {
        try planner.requireRunning(process, for: "record a control end of")
        lastTermination[process] = nil
        try planner.reset(process)
    }

    /// Applies `outcome` to the running `process` in the planner and returns it.
    private mutating func conclude(_ process: String, _ outcome: Outcome) throws(PlannerError) -> Outcome {
        switch outcome {
        case .rescheduled: try planner.reset(process)
        case .finished: try planner.setFinished(process)
        case .failed: try planner.setFailed(process)
        }
        return outcome
    }
}

extension TaskPlanner {
    /// The plan of the ACTIVE stage: the task's processes with `final == false`.
    public static func regular(
        for task: TaskConfig, totalRunLimit: Int = TaskPlanner.unlimitedRuns
    ) throws(InvalidSchedule) -> TaskPlanner {
        try TaskPlanner(task: task, processFilter: { !$0.final }, totalRunLimit: totalRunLimit)
    }

    /// The plan of the FINALIZING stage: the task's processes with `final == true`.
    public static func finalizing(
        for task: TaskConfig, totalRunLimit: Int = TaskPlanner.unlimitedRuns
    ) throws(InvalidSchedule) -> TaskPlanner {
        try TaskPlanner(task: task, processFilter: { $0.final }, totalRunLimit: totalRunLimit)
    }
}
