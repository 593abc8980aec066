import OrderedCollections
import ThermosConfig
import ThermosCheckpoint
import ThermosControl
import ThermosPlanner

// Live control of one process (`thermos restart|stop|start`) and the staged kill asked over the
// control socket (`thermos kill`). Every decision is one record, so replay rebuilds it:
//
// * ending a live run (restart, stop): `ProcessStatus(KILLED, rc -1)` carrying the action in
//   field 12 — a loss to Aurora's readers, no failure, no `min_duration` wait for us;
// * a decision that ends no run (stop between runs, start): a duplicate of the current
//   `TaskStatus` carrying `ControlDecision` in field 5.
extension RunnerCore {
    /// Decides one control request: the records and effects, then the answer to `client`.
    mutating func control(_ request: ControlRequest, client: Int32, now: Double) throws(RunnerError) -> [RunnerAction] {
        var actions: [RunnerAction] = []
        let response: ControlResponse
        do throws(ControlResponse) {
            response = try decide(request, now: now, actions: &actions)
        } catch {
            response = error
        }
        if case .error(let code, let message) = response {
            actions.append(.log("Control request \(request.line.dropLast()) refused (\(code.rawValue)): \(message)"))
        }
        return actions + [.reply(client: client, response)]
    }

    private mutating func decide(_ request: ControlRequest, now: Double, actions: inout [RunnerAction]) throws(ControlResponse) -> ControlResponse {
        if case .kill(let wait) = request {
            guard !isTerminal else { throw .error(.taskNotActive, "task is already \(taskState.name)") }
            actions += try recorded { core throws(RunnerError) in
                try core.beginKill(terminal: .killed, wait: wait, duplicateState: true, reason: "kill requested (thermos kill)", now: now)
            }
            return .ok("killing the task (preemption wait \(wait) s)")
        }
        guard let (action, name) = Self.target(of: request) else { throw .error(.badRequest, "not a process request") }
        guard taskState == .active, forcedTerminal == nil else {
            throw .error(.taskNotActive, "task is \(forcedTerminal != nil ? "being killed" : taskState.name); processes can be controlled only while it is ACTIVE")
        }
        guard configuration.task.processes.contains(where: { $0.name == name }) else {
            let known = configuration.task.processes.map(\.name).joined(separator: ", ")
            throw .error(.unknownProcess, "no process '\(name)' in task \(configuration.taskID) (processes: \(known))")
        }
        guard plan(containing: name) == .regular else {
            throw .error(.invalidState, "\(name) is a final process: it runs only while the task finishes")
        }
        if regularPlan.finished.contains(name) || regularPlan.failed.contains(name) {
            let how = regularPlan.failed.contains(name) ? "failed" : "finished"
            throw .error(.invalidState, "\(name) has \(how) for good; only running or stopped processes can be controlled")
        }
        let run = state.processes[name]?.last
        let live = run?.state == .forked || run?.state == .running
        switch action {
        case .restart:
            if stopped.contains(name) { throw .error(.invalidState, "\(name) is stopped; use `thermos start` to run it again") }
            guard live, let run else { throw .error(.invalidState, "\(name) is not running (it waits to be started again)") }
            actions += try endRun(run, of: name, by: .restart, now: now)
            return .ok("restarting \(name): run \(runNumber(name)) ended, a new run starts now")
        case .stop:
            if stopped.contains(name) { return .ok("\(name) is already stopped") }
            if live, let run {
                actions += try endRun(run, of: name, by: .stop, now: now)
                return .ok("stopped \(name): run \(runNumber(name)) ended; `thermos start` runs it again")
            }
            actions += try recordDecision(.stop, name, now: now)
            return .ok("stopped \(name) (it was not running); `thermos start` runs it again")
        case .start:
            guard stopped.contains(name) else {
                throw .error(.invalidState, live ? "\(name) is already running" : "\(name) is not stopped (it waits to be started again)")
            }
            actions += try recordDecision(.start, name, now: now)
            return .ok("starting \(name)")
        }
    }

    /// Records the end of a live run by an operator (KILLED, rc -1, the action in field 12); its
    /// reaction kills the run's processes and reschedules (or keeps down) the process.
    private mutating func endRun(_ run: ProcessStatus, of name: String, by action: ControlAction, now: Double) throws(ControlResponse) -> [RunnerAction] {
        let seq = (run.seq ?? 0) + 1
        let record = RunnerCkpt.processStatus(ProcessStatus(
            seq: seq, process: name, state: .killed, stopTime: now, returnCode: KillPolicy.runnerKillReturnCode, control: action))
        return try recorded { core throws(RunnerError) in try core.apply(record, now: now) }
    }

    /// Records a decision that ends no run: the current task state again, with the decision.
    private mutating func recordDecision(_ action: ControlAction, _ name: String, now: Double) throws(ControlResponse) -> [RunnerAction] {
        let record = RunnerCkpt.taskStatus(TaskStatus(
            state: taskState, timestampMs: Int64((now * 1000).rounded(.down)), runnerPid: identity.pid, runnerUid: identity.uid,
            control: ControlDecision(action: action, process: name)))
        return try recorded { core throws(RunnerError) in try core.apply(record, now: now) }
    }

    /// On taking control: SIGKILL (validated, idempotent) what may be left of runs a control
    /// ended — a runner that died between recording the end and killing the run left it alive,
    /// and a restarted process must never run twice.
    func killControlledLeftovers() -> [RunnerAction] {
        state.processes.values.compactMap { runs in
            guard let run = runs.last, run.state == .killed, run.control != nil else { return nil }
            return .kill(run)
        }
    }

    /// The reaction to a recorded `ControlDecision` (live and in replay).
    mutating func applyDecision(_ decision: ControlDecision) -> [RunnerAction] {
        guard let action = decision.action, let name = decision.process else { return [] }
        switch action {
        case .stop:
            stopped.insert(name)
            return [.log("Process(\(name)) stopped by thermos stop; it stays down until thermos start.")]
        case .start:
            stopped.remove(name)
            return [.log("Process(\(name)) started again by thermos start.")]
        case .restart:
            return []
        }
    }

    /// Runs `body`, turning a failure to record into an internal-error answer.
    private mutating func recorded(_ body: (inout RunnerCore) throws(RunnerError) -> [RunnerAction]) throws(ControlResponse) -> [RunnerAction] {
        do {
            return try body(&self)
        } catch {
            throw .error(.internalError, error.message)
        }
    }

    private static func target(of request: ControlRequest) -> (ControlAction, String)? {
        switch request {
        case .restart(let process): (.restart, process)
        case .stop(let process): (.stop, process)
        case .start(let process): (.start, process)
        case .kill: nil
        }
    }

    /// Processes kept down by `thermos stop`.
    public var stoppedProcesses: Set<String> { stopped }
}
