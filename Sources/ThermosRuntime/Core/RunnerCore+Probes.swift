import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner

/// The key of a probe schedule: the process (nil for the task's health check) and the kind.
struct ProbeKey: Sendable, Hashable {
    var process: String?
    var kind: ProbeKind
}

/// The probe state of the core: schedules of the runs now RUNNING, readiness seen (latched for
/// `depends_on: ready`), the last result of every probe for the published report.
struct ProbeBook: Sendable, Hashable {
    var schedules: [ProbeKey: ProbeSchedule] = [:]
    var everReady: Set<String> = []
    var entries: [ProbeKey: ProbeReport.Entry] = [:]
    /// Processes whose closed start gates were logged (once each).
    var announcedGates: Set<String> = []
    /// The regular plan cannot go on: every process left waits behind a gate that cannot open.
    var gateDeadlock = false
}

// Probes (our extension): readiness, liveness and the task's health check, decided here over
// times only; `TaskRunner` runs the attempts through the platform and reports their ends.
extension RunnerCore {
    /// Keeps one schedule per probe of each RUNNING run (regular processes while ACTIVE, final
    /// ones while FINALIZING; the health check while ACTIVE), cuts attempts past their
    /// timeout, starts those due and acts on what they decided.
    mutating func probeStep(now: Double) throws(RunnerError) -> [RunnerAction] {
        var actions: [RunnerAction] = []
        var wanted: [ProbeKey: (ProbeConfig, Int, Double)] = [:]
        let stage = taskState
        if forcedTerminal == nil {
            for process in probedProcesses where (process.final ? stage == .finalizing : stage == .active) {
                guard let run = state.processes[process.name]?.last, run.state == .running, let started = run.startTime else { continue }
                let number = runNumber(process.name)
                if let readiness = process.readiness { wanted[ProbeKey(process: process.name, kind: .readiness)] = (readiness, number, started) }
                if let liveness = process.liveness { wanted[ProbeKey(process: process.name, kind: .liveness)] = (liveness, number, started) }
            }
            if stage == .active, let health = configuration.task.healthCheck {
                wanted[ProbeKey(process: nil, kind: .health)] = (health, 0, configuration.launchTime)
            }
        }
        var changed = false
        for (key, schedule) in probes.schedules where wanted[key] == nil || wanted[key]?.1 != schedule.run {
            if let attempt = schedule.inFlight?.attempt { actions.append(.cancelProbe(attempt)) }
            probes.schedules[key] = nil
            changed = true
        }
        for (key, (probe, run, started)) in wanted where probes.schedules[key] == nil {
            probes.schedules[key] = ProbeSchedule(probe: probe, kind: key.kind, process: key.process, run: run, startedAt: started)
            changed = true
        }
        for key in probes.schedules.keys.sorted(by: { ($0.process ?? "", $0.kind.rawValue) < ($1.process ?? "", $1.kind.rawValue) }) {
            guard var schedule = probes.schedules[key] else { continue }
            if let expired = schedule.expired(now: now) {
                actions.append(.cancelProbe(expired))
                let detail = "timed out after \(Self.seconds(schedule.probe.timeout))"
                let verdict = schedule.finish(expired, passed: false, detail: detail, now: now)
                probes.schedules[key] = schedule
                actions += try settleProbe(key, verdict: verdict, now: now)
                changed = true
                guard let updated = probes.schedules[key] else { continue }
                schedule = updated
            }
            if let attempt = schedule.startIfDue(now: now) {
                probes.schedules[key] = schedule
                actions.append(.startProbe(probeRequest(attempt, schedule.probe)))
            }
        }
        if changed { actions.append(.publishProbes(probeReport())) }
        return actions
    }

    /// The end of a probe attempt the shell ran.
    mutating func probeFinished(_ attempt: ProbeAttempt, passed: Bool, detail: String, now: Double) throws(RunnerError) -> [RunnerAction] {
        let key = ProbeKey(process: attempt.process, kind: attempt.kind)
        guard var schedule = probes.schedules[key], schedule.run == attempt.run else { return [] }
        let verdict = schedule.finish(attempt, passed: passed, detail: detail, now: now)
        probes.schedules[key] = schedule
        var actions = try settleProbe(key, verdict: verdict, now: now)
        actions.append(.publishProbes(probeReport()))
        return actions
    }

    /// Earliest time a probe schedule wants a step.
    func probeWakeAt() -> Double? {
        probes.schedules.values.compactMap(\.wakeAt).min()
    }

    /// Records the schedule's last result and acts on its verdict.
    private mutating func settleProbe(_ key: ProbeKey, verdict: ProbeSchedule.Verdict, now: Double) throws(RunnerError) -> [RunnerAction] {
        guard let schedule = probes.schedules[key] else { return [] }
        probes.entries[key] = ProbeReport.Entry(
            process: key.process, kind: key.kind, run: schedule.run, consecutiveFailures: schedule.consecutiveFailures, last: schedule.last)
        let detail = schedule.last?.detail ?? ""
        switch (verdict, key.process) {
        case (.none, _):
            if key.kind != .readiness, let last = schedule.last, !last.passed {
                let name = key.process.map { "Process(\($0))" } ?? "Task"
                return [.log("\(name) \(key.kind.rawValue) probe failed (\(schedule.consecutiveFailures) in a row): \(detail)")]
            }
            return []
        case (.becameReady, let process?):
            probes.everReady.insert(process)
            return [.log("Process(\(process)) is ready: \(detail)")]
        case (.failedForGood, let process?):
            probes.schedules[key] = nil
            guard let run = state.processes[process]?.last, run.state == .running else { return [] }
            var actions: [RunnerAction] = [.log(
                "Process(\(process)) failed its liveness probe \(schedule.consecutiveFailures) times in a row (\(detail)); killing it, counted as a failure.")]
            actions += try setProcessStatus(process, .failed, now: now, stopTime: now, returnCode: KillPolicy.runnerKillReturnCode)
            return actions
        case (.failedForGood, nil):
            probes.schedules[key] = nil
            return [.log("Failed health check! \(detail)")]
                + (try beginKill(terminal: .failed, wait: configuration.preemptionWait, duplicateState: false, now: now))
        case (.becameReady, nil):
            return []
        }
    }

    private func probeRequest(_ attempt: ProbeAttempt, _ probe: ProbeConfig) -> ProbeRequest {
        let process = attempt.process.flatMap { name in configuration.task.processes.first { $0.name == name } }
        var environment: [String: String] = [:]
        for (key, value) in process?.env ?? [:] { environment[key] = value }
        return ProbeRequest(
            attempt: attempt, check: probe.check, expectBody: probe.expectBody, timeout: probe.timeout,
            sandbox: configuration.sandbox, cwd: process?.cwd, environment: environment,
            user: configuration.user == identity.userName ? nil : configuration.user)
    }

    /// What `probes.json` holds.
    func probeReport() -> ProbeReport {
        var ready = Set<String>()
        for (key, schedule) in probes.schedules where key.kind == .readiness && schedule.isReady {
            if let process = key.process { ready.insert(process) }
        }
        let withReadiness = Set(configuration.task.processes.filter { $0.readiness != nil }.map(\.name))
        let entries = probes.entries.values.sorted { ($0.process ?? "", $0.kind.rawValue) < ($1.process ?? "", $1.kind.rawValue) }
        return ProbeReport(ready: ready, withReadiness: withReadiness, entries: entries)
    }

    // MARK: - Start gates (`depends_on: started | ready`)

    /// Processes that had a run reach RUNNING.
    func startedProcesses() -> Set<String> {
        Set(state.processes.filter { $0.value.contains { $0.startTime != nil || $0.state == .running } }.keys)
    }

    /// Whether `name` may start now as far as its `started`/`ready` dependencies go; logs the
    /// first time it is held back.
    mutating func passesStartGates(_ name: String, actions: inout [RunnerAction]) -> Bool {
        // No gates: nothing to compute (the common case, and every process of a plain task).
        guard startGates.gates[name] != nil else { return true }
        let started = startedProcesses()
        let hasRun = state.processes[name] != nil
        if startGates.isOpen(name, started: started, ready: probes.everReady, hasRun: hasRun) { return true }
        if probes.announcedGates.insert(name).inserted {
            let closed = startGates.closed(name, started: started, ready: probes.everReady).map(\.description)
            actions.append(.log("Process(\(name)) waits for \(closed.joined(separator: ", "))."))
        }
        return false
    }

    /// True (and logged once) when nothing of `plan` runs and everything left waits behind a gate.
    mutating func gatesBlockForGood(_ plan: TaskPlanner, actions: inout [RunnerAction]) -> Bool {
        // Without gates, or while anything runs, nothing is blocked for good.
        guard !startGates.gates.isEmpty, plan.running.isEmpty, launching.isEmpty else { return false }
        let blocked = startGates.isBlockedForGood(
            waiting: plan.runnable, anythingRunning: !plan.running.isEmpty || !launching.isEmpty,
            started: startedProcesses(), ready: probes.everReady, hasRun: { state.processes[$0] != nil })
        if blocked && !probes.gateDeadlock {
            probes.gateDeadlock = true
            actions.append(.log("Plan deadlocked: \(plan.runnable.sorted().joined(separator: ", ")) wait for dependencies that can no longer start or become ready."))
        }
        return blocked
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
