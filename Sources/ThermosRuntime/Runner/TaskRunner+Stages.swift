import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

// The run loop and its stages (reference §1.5 "Run loop", "Stages", `_run_plan`), driven by
// events instead of sleeps.
extension TaskRunner {
    func runLoop() throws(RunnerError) {
        while !isTerminal {
            let stage = taskState
            let wait: Double?
            switch stage {
            case .active: wait = try activeStage()
            case .cleaning: wait = try cleaningStage()
            case .finalizing: wait = try finalizingStage()
            case .success, .failed, .killed, .lost, .unknown:
                throw RunnerError(.internalError, "no stage for task state \(stage.name)")
            }
            guard let wait else {
                try setTaskStatus(transition(from: stage))
                continue
            }
            if try collectUpdates() > 0 { continue }
            requestSync()
            let events = platform.waitForEvents(timeout: max(0, wait))
            for event in events {
                switch event {
                case .killRequested: try beginKill(terminal: .killed, wait: configuration.preemptionWait, duplicateState: true)
                case .loseRequested: try beginKill(terminal: .lost, wait: 0, duplicateState: true)
                case .streamChanged, .coordinatorExited, .timeout: break
                }
            }
            _ = try collectUpdates()
        }
    }

    /// Starts a staged kill (or, when one is under way, cuts its wait short).
    func beginKill(terminal: TaskState, wait: Double, duplicateState: Bool) throws(RunnerError) {
        if forcedTerminal != nil {
            log("Kill requested again: killing what is left now.")
            preemptionDeadline = platform.now()
            if terminal == .lost { forcedTerminal = .lost }
            return
        }
        log(terminal == .lost ? "Losing task." : "Killing task (preemption wait \(wait) s).")
        preemptionDeadline = platform.now() + wait
        forcedTerminal = terminal
        if duplicateState { try setTaskStatus(taskState) }
        if taskState == .active { try setTaskStatus(.cleaning) }
    }

    /// Muxes new coordinator records into the runner stream; returns how many.
    func collectUpdates() throws(RunnerError) -> Int {
        let updates: [ProcessStatus]
        do {
            updates = try muxer.select()
        } catch {
            throw RunnerError(.checkpoint, "\(error)")
        }
        for update in updates {
            try apply(.processStatus(update))
        }
        return updates.count
    }

    private func transition(from stage: TaskState) -> TaskState {
        switch stage {
        case .active:
            return .cleaning
        case .cleaning:
            if finalizationRemaining() <= 0 {
                log("Exceeded finalization wait, skipping finalization.")
                return terminalState()
            }
            return .finalizing
        default:
            if finalizationRemaining() <= 0 { log("Exceeded finalization wait, terminating finalization.") }
            return terminalState()
        }
    }

    private func activeStage() throws(RunnerError) -> Double? {
        try runPlan(.regular)
        if regularPlan.isComplete {
            log("Regular plan complete.")
            return nil
        }
        if !isHealthy() {
            log("Regular plan unhealthy!")
            return nil
        }
        return min(Self.activeSafetyWait, nextWait(regularPlan))
    }

    private func cleaningStage() throws(RunnerError) -> Double? {
        // A coordinator records the end of its run before it exits: fold those records in before
        // deciding that nothing is alive (the original counted zombies as alive for this).
        _ = try collectUpdates()
        let remaining = finalizationRemaining()
        guard remaining > 0, hasRunningProcesses() else { return nil }
        return min(remaining, Self.cleaningSafetyWait)
    }

    private func finalizingStage() throws(RunnerError) -> Double? {
        try runPlan(.finalizing)
        if finalizingPlan.isDeadlocked {
            log("Finalizing plan deadlocked.")
            return nil
        }
        let remaining = finalizationRemaining()
        guard remaining > 0, !finalizingPlan.isComplete else { return nil }
        return min(remaining, Self.activeSafetyWait, nextWait(finalizingPlan))
    }

    /// Seconds until a process waiting out its `min_duration` may run (runnable processes held
    /// back by `max_concurrency` wait for an event instead).
    private func nextWait(_ plan: TaskPlanner) -> Double {
        let now = platform.now()
        return plan.waitingAt(now).map { plan.getWait($0, at: now) }.min() ?? TaskPlanner.infinity
    }

    func finalizationRemaining() -> Double {
        let now = platform.now()
        if let preemptionDeadline { return max(0, preemptionDeadline - now) }
        guard let finalizationStart else { return .greatestFiniteMagnitude }
        return max(0, Double(configuration.task.finalizationWait) - max(0, now - finalizationStart))
    }

    func terminalState() -> TaskState {
        forcedTerminal ?? (isHealthy() ? .success : .failed)
    }

    /// Not deadlocked and under the task's `max_failures` (regular plan only).
    func isHealthy() -> Bool {
        let maxFailures = configuration.task.maxFailures
        return !regularPlan.isDeadlocked && (maxFailures == 0 || regularPlan.failed.count < maxFailures)
    }

    func hasRunningProcesses() -> Bool {
        state.processes.values.contains { runs in
            guard let run = runs.last else { return false }
            return platform.scan(run, owner: owner).isAlive
        }
    }

    /// One scheduling pass: mark lost runs, then launch what is runnable (up to `max_concurrency`).
    private func runPlan(_ kind: PlanKind) throws(RunnerError) {
        let running = (kind == .regular ? regularPlan : finalizingPlan).running
        for name in running.sorted(by: byTaskOrder) where isProcessLost(name) {
            log("Detected a LOST process: \(name)")
            try setProcessStatus(name, .lost)
        }
        // Read the plan only now: a run just marked LOST is runnable again (or waiting out its
        // min_duration) in the live plan, and a copy taken before would miss it until a timer.
        let plan = kind == .regular ? regularPlan : finalizingPlan
        var runnable = plan.runnableAt(platform.now()).sorted(by: byTaskOrder)
        let limit = configuration.task.maxConcurrency
        if limit > 0 { runnable = Array(runnable.prefix(max(limit - plan.running.count, 0))) }
        for name in runnable {
            if !prepared.contains(name) { try setProcessStatus(name, .waiting) }
            CrashPoint.reach("after-waiting", process: name)
            try launch(name)
        }
    }

    /// LOST when FORKED for over a minute, or FORKED/RUNNING with its coordinator gone and
    /// nothing unread in its stream (known within milliseconds through the coordinator's pidfd).
    private func isProcessLost(_ name: String) -> Bool {
        guard let run = state.processes[name]?.last else { return false }
        switch run.state {
        case .forked:
            if platform.now() - (run.forkTime ?? 0) > Self.lostTimeout { return true }
        case .running:
            break
        default:
            return false
        }
        return !platform.isCoordinatorAlive(run, owner: owner) && !muxer.hasData(name)
    }

    /// Starts the coordinator of the WAITING run of `name`; a launch failure is recorded FAILED.
    private func launch(_ name: String) throws(RunnerError) {
        guard let process = configuration.task.processes.first(where: { $0.name == name }),
            let waiting = state.processes[name]?.last, waiting.state == .waiting, let seq = waiting.seq
        else { throw RunnerError(.internalError, "FATAL: no WAITING run to launch for process \(name)") }
        let run = runNumber(name)
        let request = CoordinatorLaunch(
            process: name, cmdline: process.cmdline, seq: seq + 1, run: run,
            checkpointPath: configuration.coordinatorCheckpoint(name),
            logDirectory: "\(configuration.logDir)/\(name)/\(run)", sandbox: configuration.sandbox,
            user: configuration.user == currentUserName() ? nil : configuration.user, chroot: configuration.chroot,
            preserveEnvironment: configuration.preserveEnvironment, logging: configuration.logging(for: process),
            fsync: configuration.fsync)
        log("Forking Process(\(name))")
        do {
            _ = try platform.launch(request)
        } catch where error.isStorageFailure {
            // Our own disk failed (full, quota, read-only, I/O error), not the process: stop with
            // the task resumable (WAITING stays the last record) instead of recording a failure.
            throw RunnerError(.checkpoint, "Cannot start Process(\(name)): \(error.message)", errno: error.errno)
        } catch {
            log("Failed to fork Process(\(name)): \(error.message)")
            try setProcessStatus(name, .failed)
        }
    }
}

/// The name of the user this process runs as (nil if it has no passwd entry).
func currentUserName() -> String? {
    guard let entry = getpwuid(getuid()) else { return nil }
    return String(cString: entry.pointee.pw_name)
}
