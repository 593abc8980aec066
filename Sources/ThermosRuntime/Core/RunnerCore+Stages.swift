import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

// The stages (reference §1.5 "Run loop", "Stages", `_run_plan`) and the observations.
extension RunnerCore {
    /// Runs the current stage once at `now`: LOST detection, launches, stage transitions.
    /// - Returns: the actions, and when to step again at the latest (`now` when a transition or
    ///   a requested scan wants a new step at once; nil once terminal).
    public mutating func step(now: Double) throws(RunnerError) -> (actions: [RunnerAction], wakeAt: Double?) {
        guard !isTerminal else { return ([], nil) }
        var actions = try probeStep(now: now)
        let stage = taskState
        let wait: Double?
        switch stage {
        case .active: wait = try activeStage(now: now, actions: &actions)
        case .cleaning: wait = try cleaningStage(now: now, actions: &actions)
        case .finalizing: wait = try finalizingStage(now: now, actions: &actions)
        case .success, .failed, .killed, .lost, .unknown:
            throw RunnerError(.internalError, "no stage for task state \(stage.name)")
        }
        guard let wait else {
            actions += transitionLogs(from: stage, now: now)
            actions += try setTaskStatus(transition(from: stage, now: now), now: now)
            return (actions, isTerminal ? nil : now)
        }
        return (actions, min(now + max(0, wait), probeWakeAt() ?? .infinity))
    }

    /// Folds in what the shell saw.
    public mutating func observe(_ observation: RunnerObservation, now: Double) throws(RunnerError) -> [RunnerAction] {
        switch observation {
        case .coordinatorExited(let pid):
            exitedCoordinators.insert(pid)
            return []
        case .killRequested:
            guard !isTerminal else { return [] }
            return try beginKill(
                terminal: .killed, wait: configuration.preemptionWait, duplicateState: true, reason: "kill requested (signal)", now: now)
        case .loseRequested:
            guard !isTerminal else { return [] }
            return try beginKill(terminal: .lost, wait: 0, duplicateState: true, reason: "lose requested (SIGUSR2)", now: now)
        case .launchFailed(let process, let reason):
            launching.remove(process)
            return [.log("Failed to fork Process(\(process)): \(reason)")] + (try setProcessStatus(process, .failed, now: now))
        case .probeFinished(let attempt, let passed, let detail):
            return try probeFinished(attempt, passed: passed, detail: detail, now: now)
        case .scanned(.liveness, let scans):
            cleaningScanFoundAlive = scans.values.contains { $0.isAlive }
            return []
        case .scanned(.conclude(let finishing), let scans):
            var actions = try conclude(scans, now: now)
            if finishing { actions += [.sync, .finalizeTaskFile, .signalOrphans(.kill, sparing: []), .log(closingLine())] }
            return actions
        case .controlRequested(let request, let client):
            return try control(request, client: client, now: now)
        }
    }

    /// The original's `_kill` over a scan: leftovers of ended runs are SIGKILLed, a live
    /// unfinished run is recorded KILLED (rc -1) and killed, a dead one LOST (`KillPolicy`).
    private mutating func conclude(_ scans: [String: ProcessScan], now: Double) throws(RunnerError) -> [RunnerAction] {
        var actions: [RunnerAction] = []
        for verdict in KillPolicy.verdicts(state, scans: scans) {
            switch verdict.kind {
            case .leftovers(let pids):
                actions.append(.kill(verdict.run))
                if !pids.isEmpty {
                    actions.append(.log("Terminal process (\(verdict.process)) still had running pids (\(pids.map(String.init).joined(separator: " "))); killed them."))
                }
            case .killed:
                actions.append(.log("Transitioning \(verdict.process) to KILLED"))
                actions += try setProcessStatus(verdict.process, .killed, now: now, stopTime: now, returnCode: KillPolicy.runnerKillReturnCode)
            case .lost:
                actions.append(.log("Transitioning \(verdict.process) to LOST"))
                actions += try setProcessStatus(verdict.process, .lost, now: now)
            }
        }
        return actions
    }

    private func transition(from stage: TaskState, now: Double) -> TaskState {
        switch stage {
        case .active: .cleaning
        case .cleaning: finalizationRemaining(now: now) <= 0 ? terminalState() : .finalizing
        default: terminalState()
        }
    }

    private func transitionLogs(from stage: TaskState, now: Double) -> [RunnerAction] {
        guard finalizationRemaining(now: now) <= 0 else { return [] }
        switch stage {
        case .cleaning: return [.log("Exceeded finalization wait, skipping finalization.")]
        case .finalizing: return [.log("Exceeded finalization wait, terminating finalization.")]
        default: return []
        }
    }

    private mutating func activeStage(now: Double, actions: inout [RunnerAction]) throws(RunnerError) -> Double? {
        actions += try runPlan(.regular, now: now)
        if regularPlan.isComplete {
            actions.append(.log("Regular plan complete."))
            return nil
        }
        if !isHealthy() || gatesBlockForGood(regularPlan, actions: &actions) {
            actions.append(.log("Regular plan unhealthy!"))
            return nil
        }
        return min(Self.activeSafetyWait, nextWait(regularPlan, now: now))
    }

    /// CLEANING ends once nothing of any run is alive (a fresh scan, asked for and consumed
    /// here) or the finalization budget is spent.
    private mutating func cleaningStage(now: Double, actions: inout [RunnerAction]) throws(RunnerError) -> Double? {
        let remaining = finalizationRemaining(now: now)
        guard remaining > 0 else { return nil }
        guard let foundAlive = cleaningScanFoundAlive else {
            actions.append(.scanRuns(.liveness))
            return 0
        }
        cleaningScanFoundAlive = nil
        guard foundAlive else { return nil }
        return min(remaining, Self.cleaningSafetyWait)
    }

    private mutating func finalizingStage(now: Double, actions: inout [RunnerAction]) throws(RunnerError) -> Double? {
        actions += try runPlan(.finalizing, now: now)
        if finalizingPlan.isDeadlocked || gatesBlockForGood(finalizingPlan, actions: &actions) {
            actions.append(.log("Finalizing plan deadlocked."))
            return nil
        }
        let remaining = finalizationRemaining(now: now)
        guard remaining > 0, !finalizingPlan.isComplete else { return nil }
        return min(remaining, Self.activeSafetyWait, nextWait(finalizingPlan, now: now))
    }

    /// Seconds until a process waiting out its `min_duration` may run, or a FORKED run reaches
    /// the LOST timeout (runnable processes held back by `max_concurrency` wait for an event).
    private func nextWait(_ plan: TaskPlanner, now: Double) -> Double {
        var wait = plan.waitingAt(now).subtracting(stopped).map { plan.getWait($0, at: now) }.min() ?? TaskPlanner.infinity
        for name in plan.running {
            guard let run = state.processes[name]?.last, run.state == .forked, let forkTime = run.forkTime else { continue }
            wait = min(wait, max(0, forkTime + Self.lostTimeout - now) + 0.001)
        }
        return wait
    }

    /// One scheduling pass: mark lost runs, then launch what is runnable (up to `max_concurrency`).
    private mutating func runPlan(_ kind: PlanKind, now: Double) throws(RunnerError) -> [RunnerAction] {
        var actions: [RunnerAction] = []
        let running = (kind == .regular ? regularPlan : finalizingPlan).running
        for name in running.sorted(by: byTaskOrder) where isProcessLost(name, now: now) {
            actions.append(.log("Detected a LOST process: \(name)"))
            actions += try setProcessStatus(name, .lost, now: now)
        }
        let plan = kind == .regular ? regularPlan : finalizingPlan
        var runnable: [String] = []
        for name in plan.runnableAt(now).subtracting(launching).subtracting(stopped).sorted(by: byTaskOrder) where passesStartGates(name, actions: &actions) {
            runnable.append(name)
        }
        let limit = configuration.task.maxConcurrency
        if limit > 0 { runnable = Array(runnable.prefix(max(limit - plan.running.count - launching.count, 0))) }
        for name in runnable {
            if !prepared.contains(name) { actions += try setProcessStatus(name, .waiting, now: now) }
            actions.append(.crashPoint(.afterWaiting, process: name))
            actions += try launch(name)
        }
        return actions
    }

    /// LOST when FORKED for over a minute, or FORKED/RUNNING with its coordinator gone (the
    /// shell reads the streams before it reports an exit, so an end it wrote is already in).
    private func isProcessLost(_ name: String, now: Double) -> Bool {
        guard let run = state.processes[name]?.last else { return false }
        switch run.state {
        case .forked:
            if now - (run.forkTime ?? 0) > Self.lostTimeout { return true }
        case .running:
            break
        default:
            return false
        }
        guard let pid = run.coordinatorPid else { return true }
        return exitedCoordinators.contains(pid)
    }

    /// The launch of the WAITING run of `name`.
    private mutating func launch(_ name: String) throws(RunnerError) -> [RunnerAction] {
        guard let process = configuration.task.processes.first(where: { $0.name == name }),
            let waiting = state.processes[name]?.last, waiting.state == .waiting, let seq = waiting.seq
        else { throw RunnerError(.internalError, "FATAL: no WAITING run to launch for process \(name)") }
        let run = runNumber(name)
        launching.insert(name)
        var request = CoordinatorLaunch(
            process: name, cmdline: process.cmdline, seq: seq + 1, run: run,
            checkpointPath: configuration.coordinatorCheckpoint(name),
            logDirectory: "\(configuration.logDir)/\(name)/\(run)", sandbox: configuration.sandbox,
            user: configuration.user == identity.userName ? nil : configuration.user, chroot: configuration.chroot,
            preserveEnvironment: configuration.preserveEnvironment, logging: configuration.logging(for: process),
            fsync: configuration.fsync)
        request.environment = process.env.map { ($0.key, $0.value) }
        request.cwd = process.cwd
        return [.log("Forking Process(\(name))"), .launch(request)]
    }
}
