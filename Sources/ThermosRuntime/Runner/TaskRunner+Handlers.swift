import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

// The side effects of each applied record (the original's TaskRunnerProcessHandler and
// TaskRunnerTaskHandler). Plan bookkeeping happens in recovery too; actions only when live.
extension TaskRunner {
    func react(to record: RunnerCkpt) throws(RunnerError) {
        switch record {
        case .runnerHeader:
            return
        case .taskStatus(let status):
            try reactToTask(status)
        case .processStatus(let status):
            try reactToProcess(status)
        }
    }

    private func reactToTask(_ status: TaskStatus) throws(RunnerError) {
        guard let taskState = status.state else { return }
        switch taskState {
        case .active:
            if !recovery {
                try TaskFiles.initialize(root: configuration.root, taskID: configuration.taskID, json: configuration.task.configValue.jsonText())
            }
        case .cleaning:
            finalizationStart = Double(status.timestampMs ?? 0) / 1000
            if !recovery { terminateRegularPlan() }
        case .finalizing:
            if !recovery { try killAll() }
            if finalizationStart == nil { finalizationStart = Double(status.timestampMs ?? 0) / 1000 }
        case .success, .failed, .killed, .lost:
            guard !recovery else { return }
            CrashPoint.reach("after-terminal", process: taskState.name.lowercased())
            try completeFinalization()
            log(Self.closingLine(taskState))
        case .unknown(let value):
            throw RunnerError(.checkpoint, "unknown task state \(value) in \(configuration.runnerCheckpoint)")
        }
    }

    private func reactToProcess(_ status: ProcessStatus) throws(RunnerError) {
        guard let name = status.process, let processState = status.state else { return }
        let kind = plan(containing: name)
        let time = status.stopTime ?? platform.now()
        let log: (String) -> Void = recovery ? { _ in } : self.log
        do {
            switch processState {
            case .waiting:
                prepared.insert(name)
                muxer.register(name, watermark: (status.seq ?? 0) - 1)
                platform.watchStream(path: configuration.coordinatorCheckpoint(name))
            case .forked:
                // Replayed runs are watched once replay is over (`watchLiveCoordinators`).
                if !recovery, let pid = status.coordinatorPid, let forkTime = status.forkTime {
                    platform.watchCoordinator(process: name, pid: pid, forkTime: forkTime)
                }
                try markRunning(name, in: kind)
            case .running:
                try markRunning(name, in: kind)
            case .success:
                log("Process(\(name)) finished successfully [rc=\(status.returnCode.map(String.init) ?? "None")]")
                finishRun(name)
                try withPlan(kind) { plan throws(PlannerError) in try plan.addSuccess(name, at: time) }
            case .failed:
                log("Process(\(name)) failed [rc=\(status.returnCode.map(String.init) ?? "None")]")
                finishRun(name)
                try markRunning(name, in: kind)
                let outcome = try withPlan(kind) { plan throws(PlannerError) in try plan.addFailure(name, at: time) }
                log(outcome == .failed
                    ? "Process \(name) reached maximum failures, marking process run failed."
                    : "Process \(name) under maximum failure limit, restarting.")
            case .lost, .killed:
                if processState == .killed { log("Process(\(name)) \(Self.describeKill(status.returnCode)); counted as a loss, not a failure.") }
                else { log("Process(\(name)) lost.") }
                finishRun(name)
                try markRunning(name, in: kind)
                try withPlan(kind) { plan throws(PlannerError) in try plan.lost(name, at: time) }
            case .unknown(let value):
                throw RunnerError(.checkpoint, "unknown process state \(value) for \(name)")
            }
        } catch let error as RunnerError {
            throw error
        } catch {
            throw RunnerError(.internalError, "planner rejected \(processState.name) of \(name): \(error)")
        }
    }

    /// The runner log's last line for a terminal state (the original only printed the first).
    static func closingLine(_ state: TaskState) -> String {
        switch state {
        case .success: "Task succeeded."
        case .failed: "Task failed."
        case .killed: "Task killed."
        case .lost: "Task lost."
        case .active, .cleaning, .finalizing, .unknown: "Task ended in state \(state.name)."
        }
    }

    /// `killed [rc=-1]` (killed by the runner) or `killed by signal 15` (a signal ended the command).
    static func describeKill(_ returnCode: Int32?) -> String {
        guard let returnCode else { return "killed" }
        if returnCode < -1 && returnCode >= -64 { return "killed by signal \(-returnCode)" }
        return "killed [rc=\(returnCode)]"
    }

    /// After a takeover: watch the coordinators of runs still FORKED or RUNNING (a previous
    /// runner started them; they may have exited since, which the platform then reports).
    func watchLiveCoordinators() {
        for (name, runs) in state.processes {
            guard let run = runs.last, run.state == .forked || run.state == .running,
                let pid = run.coordinatorPid, let forkTime = run.forkTime
            else { continue }
            platform.watchCoordinator(process: name, pid: pid, forkTime: forkTime)
        }
    }

    /// A run ended: clean up what is left of it (live only) and stop reading its stream.
    private func finishRun(_ name: String) {
        if !recovery, let run = state.processes[name]?.last {
            _ = platform.kill(run, owner: owner)
        }
        prepared.remove(name)
        muxer.unregister(name)
        if !recovery { CrashPoint.reach("after-end", process: name) }
    }

    private func markRunning(_ name: String, in kind: PlanKind) throws(PlannerError) {
        let running = kind == .regular ? regularPlan.running : finalizingPlan.running
        guard !running.contains(name) else { return }
        try withPlan(kind) { plan throws(PlannerError) in try plan.setRunning(name) }
    }

    @discardableResult
    private func withPlan<T>(_ kind: PlanKind, _ body: (inout TaskPlanner) throws(PlannerError) -> T) throws(PlannerError) -> T {
        switch kind {
        case .regular: try body(&regularPlan)
        case .finalizing: try body(&finalizingPlan)
        }
    }

    /// CLEANING: SIGTERM the process group of every regular process still FORKED or RUNNING,
    /// and every adopted orphan (DESIGN §2.4).
    func terminateRegularPlan() {
        platform.signalOrphans(SIGTERM, sparing: liveCoordinators())
        for name in regularPlan.running.sorted(by: byTaskOrder) {
            guard let run = state.processes[name]?.last, run.state == .forked || run.state == .running else { continue }
            platform.terminate(run, owner: owner)
        }
    }

    /// The original's `_kill`: every process whose last run is terminal gets its leftovers
    /// SIGKILLed; a live non-terminal run is recorded KILLED (rc -1), a dead one LOST.
    func killAll() throws(RunnerError) {
        // What coordinators already recorded wins over what we would conclude.
        _ = try collectUpdates()
        for name in state.processes.keys {
            guard var run = state.processes[name]?.last else { continue }
            var scan = platform.scan(run, owner: owner)
            if !(run.state?.isTerminal ?? false) && !scan.isAlive {
                // Found dead: its coordinator may have recorded the end and exited after the
                // collection above (it writes before it exits), so read once more before concluding.
                _ = try collectUpdates()
                guard let latest = state.processes[name]?.last else { continue }
                run = latest
                scan = platform.scan(run, owner: owner)
            }
            if run.state?.isTerminal ?? false {
                // A coordinator that recorded the end is on its way out; only the command or its
                // descendants still alive are leftovers worth a warning.
                _ = platform.kill(run, owner: owner)
                if scan.pid != nil || !scan.tree.isEmpty {
                    log("Terminal process (\(name)) still had running pids (\(([scan.pid].compactMap { $0 } + scan.tree.sorted()).map(String.init).joined(separator: " "))); killed them.")
                }
            } else if scan.isAlive {
                log("Transitioning \(name) to KILLED")
                try setProcessStatus(name, .killed, stopTime: platform.now(), returnCode: -1)
            } else if run.state != .waiting {
                log("Transitioning \(name) to LOST")
                try setProcessStatus(name, .lost)
            }
        }
    }

    func liveCoordinators() -> Set<Int32> {
        var pids = Set<Int32>()
        for runs in state.processes.values {
            if let run = runs.last, let pid = run.coordinatorPid, !(run.state?.isTerminal ?? true) { pids.insert(pid) }
        }
        return pids
    }

    func byTaskOrder(_ a: String, _ b: String) -> Bool {
        (processOrder[a] ?? .max, a) < (processOrder[b] ?? .max, b)
    }
}
