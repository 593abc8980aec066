import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

// What follows from each applied record (the original's TaskRunnerProcessHandler and
// TaskRunnerTaskHandler). Plan bookkeeping is state and happens in replay too; everything else
// is an action, which replay drops.
extension RunnerCore {
    mutating func react(to record: RunnerCkpt, now: Double) throws(RunnerError) -> [RunnerAction] {
        switch record {
        case .runnerHeader:
            return []
        case .taskStatus(let status):
            return try reactToTask(status)
        case .processStatus(let status):
            return try reactToProcess(status, now: now)
        }
    }

    private mutating func reactToTask(_ status: TaskStatus) throws(RunnerError) -> [RunnerAction] {
        guard let taskState = status.state else { return [] }
        if let decision = status.control { return applyDecision(decision) }
        let timestamp = Double(status.timestampMs ?? 0) / 1000
        switch taskState {
        case .active:
            return [.initializeTaskFile]
        case .cleaning:
            finalizationStart = timestamp
            return terminateRegularPlan()
        case .finalizing:
            if finalizationStart == nil { finalizationStart = timestamp }
            return [.scanRuns(.conclude(finishing: false))]
        case .success, .failed, .killed, .lost:
            return [.crashPoint(.afterTerminal, process: taskState.name.lowercased()), .scanRuns(.conclude(finishing: true))]
        case .unknown(let value):
            throw RunnerError(.checkpoint, "unknown task state \(value) in \(configuration.runnerCheckpoint)")
        }
    }

    private mutating func reactToProcess(_ status: ProcessStatus, now: Double) throws(RunnerError) -> [RunnerAction] {
        guard let name = status.process, let processState = status.state else { return [] }
        let kind = plan(containing: name)
        let time = status.stopTime ?? now
        let code = status.returnCode.map(String.init) ?? "None"
        var actions: [RunnerAction] = []
        do {
            switch processState {
            case .waiting:
                prepared.insert(name)
                actions.append(.watchStream(process: name, watermark: (status.seq ?? 0) - 1))
            case .forked:
                launching.remove(name)
                if let pid = status.coordinatorPid, let forkTime = status.forkTime {
                    // A pid seen exiting before may belong to this new coordinator now.
                    exitedCoordinators.remove(pid)
                    actions.append(.watchCoordinator(process: name, pid: pid, forkTime: forkTime))
                }
                try markRunning(name, in: kind)
            case .running:
                try markRunning(name, in: kind)
            case .success:
                actions.append(.log("Process(\(name)) finished successfully [rc=\(code)]"))
                actions += finishRun(name)
                try withPlan(kind) { plan throws(PlannerError) in try plan.addSuccess(name, at: time) }
            case .failed:
                actions.append(.log("Process(\(name)) failed [rc=\(code)]"))
                actions += finishRun(name)
                try markRunning(name, in: kind)
                let outcome = try withPlan(kind) { plan throws(PlannerError) in try plan.addFailure(name, at: time) }
                actions.append(.log(outcome == .failed
                    ? "Process \(name) reached maximum failures, marking process run failed."
                    : "Process \(name) under maximum failure limit, restarting."))
            case .killed where status.control != nil:
                actions.append(.log("Process(\(name)) ended by thermos \(status.control!) [rc=\(code)]; not a failure."))
                actions += finishRun(name)
                try markRunning(name, in: kind)
                try withPlan(kind) { plan throws(PlannerError) in try plan.endedByControl(name) }
                if status.control == .stop { stopped.insert(name) }
            case .lost, .killed:
                actions.append(.log(processState == .killed
                    ? "Process(\(name)) \(Self.describeKill(status.returnCode)); counted as a loss, not a failure." : "Process(\(name)) lost."))
                actions += finishRun(name)
                try markRunning(name, in: kind)
                try withPlan(kind) { plan throws(PlannerError) in try plan.lost(name, at: time) }
            case .unknown(let value):
                throw RunnerError(.checkpoint, "unknown process state \(value) for \(name)")
            }
        } catch let error as RunnerError {
            throw error
        } catch {
            throw RunnerError(.internalError, "planner rejected \(processState.name) of \(name): \(error)", cause: error)
        }
        return actions
    }

    /// `killed [rc=-1]` (killed by the runner) or `killed by signal 15` (a signal ended the command).
    static func describeKill(_ returnCode: Int32?) -> String {
        guard let returnCode else { return "killed" }
        if returnCode < -1 && returnCode >= -64 { return "killed by signal \(-returnCode)" }
        return "killed [rc=\(returnCode)]"
    }

    /// A run ended: clean up what is left of it and stop reading its stream.
    private mutating func finishRun(_ name: String) -> [RunnerAction] {
        prepared.remove(name)
        launching.remove(name)
        guard let run = state.processes[name]?.last else { return [] }
        return [.kill(run), .unwatchStream(process: name), .crashPoint(.afterEnd, process: name)]
    }

    private mutating func markRunning(_ name: String, in kind: PlanKind) throws(PlannerError) {
        let running = kind == .regular ? regularPlan.running : finalizingPlan.running
        guard !running.contains(name) else { return }
        try withPlan(kind) { plan throws(PlannerError) in try plan.setRunning(name) }
    }

    @discardableResult
    private mutating func withPlan<T>(_ kind: PlanKind, _ body: (inout TaskPlanner) throws(PlannerError) -> T) throws(PlannerError) -> T {
        switch kind {
        case .regular: try body(&regularPlan)
        case .finalizing: try body(&finalizingPlan)
        }
    }

    /// CLEANING: SIGTERM every adopted orphan (DESIGN §2.4), and the process group of every
    /// regular process still FORKED or RUNNING.
    private func terminateRegularPlan() -> [RunnerAction] {
        var actions: [RunnerAction] = [.signalOrphans(.terminate, sparing: liveCoordinators())]
        for name in regularPlan.running.sorted(by: byTaskOrder) {
            guard let run = state.processes[name]?.last, run.state == .forked || run.state == .running else { continue }
            actions.append(.terminate(run))
        }
        return actions
    }
}
