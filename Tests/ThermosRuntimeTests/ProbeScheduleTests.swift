import Testing
import ThermosCheckpoint
import ThermosConfig
@testable import ThermosRuntime

/// `ProbeSchedule` with times only: first attempt after `initial_delay`, one per `interval`,
/// cut at `timeout`, readiness latching on the first pass, liveness failing after
/// `max_consecutive_failures` in a row.
@Suite("ProbeSchedule")
struct ProbeScheduleTests {
    let tcp = ProbeConfig.Check.tcp(host: "127.0.0.1", port: 9)

    @Test func firstAttemptAfterInitialDelayThenEveryInterval() {
        var schedule = ProbeSchedule(
            probe: ProbeConfig(check: tcp, initialDelay: 2, interval: 5, timeout: 1), kind: .liveness, process: "web", run: 0, startedAt: 100)
        #expect(schedule.wakeAt == 102)
        #expect(schedule.startIfDue(now: 101.9) == nil)
        let first = schedule.startIfDue(now: 102)
        #expect(first == ProbeAttempt(process: "web", kind: .liveness, run: 0, number: 1))
        #expect(schedule.wakeAt == 103)  // its deadline
        #expect(schedule.startIfDue(now: 102.5) == nil)  // one in flight at a time
        #expect(schedule.finish(first!, passed: true, detail: "connected", now: 102.01) == .none)
        #expect(schedule.wakeAt == 107)
        #expect(schedule.startIfDue(now: 107)?.number == 2)
    }

    @Test func livenessFailsAfterMaxConsecutiveFailures() {
        var schedule = ProbeSchedule(
            probe: ProbeConfig(check: tcp, interval: 1, timeout: 0.5, maxConsecutiveFailures: 3), kind: .liveness, process: "web", run: 0,
            startedAt: 0)
        var verdicts: [ProbeSchedule.Verdict] = []
        let results = [false, false, true, false, false, false]
        for (index, passed) in results.enumerated() {
            let now = Double(index)
            guard let attempt = schedule.startIfDue(now: now) else { Issue.record("no attempt at \(now)"); return }
            verdicts.append(schedule.finish(attempt, passed: passed, detail: passed ? "ok" : "refused", now: now + 0.1))
        }
        #expect(verdicts == [.none, .none, .none, .none, .none, .failedForGood])
        #expect(schedule.consecutiveFailures == 3)
        #expect(schedule.isStopped && schedule.wakeAt == nil)
        #expect(schedule.last == ProbeResult(passed: false, detail: "refused", time: 5.1))
    }

    @Test func aHangingAttemptExpiresAtItsTimeoutAndLateResultsAreDropped() {
        var schedule = ProbeSchedule(
            probe: ProbeConfig(check: .exec("sleep 100"), interval: 10, timeout: 2, maxConsecutiveFailures: 1), kind: .liveness,
            process: "web", run: 4, startedAt: 0)
        let attempt = schedule.startIfDue(now: 0)!
        #expect(schedule.expired(now: 1.99) == nil)
        #expect(schedule.expired(now: 2) == attempt)
        #expect(schedule.finish(attempt, passed: false, detail: "timed out after 2 s", now: 2) == .failedForGood)
        #expect(schedule.finish(attempt, passed: true, detail: "exit 0", now: 3) == .none)
        #expect(schedule.last?.passed == false)
    }

    @Test func readinessLatchesOnTheFirstPassAndNeverFailsTheRun() {
        var schedule = ProbeSchedule(
            probe: ProbeConfig(check: tcp, interval: 1, maxConsecutiveFailures: 1), kind: .readiness, process: "db", run: 0, startedAt: 0)
        var a = schedule.startIfDue(now: 0)!
        #expect(schedule.finish(a, passed: false, detail: "refused", now: 0.1) == .none)
        a = schedule.startIfDue(now: 1)!
        #expect(schedule.finish(a, passed: true, detail: "connected", now: 1.1) == .becameReady)
        a = schedule.startIfDue(now: 2)!
        #expect(schedule.finish(a, passed: true, detail: "connected", now: 2.1) == .none)
        #expect(schedule.isReady)
    }

    @Test func httpTargetsAndHostPorts() {
        let target = ProbeConfig.HTTPTarget(url: "http://127.0.0.1:8080/health")
        #expect(target?.host == "127.0.0.1" && target?.port == 8080 && target?.path == "/health")
        #expect(ProbeConfig.HTTPTarget(url: "http://localhost")?.port == 80)
        #expect(ProbeConfig.HTTPTarget(url: "http://[::1]:81")?.host == "::1")
        #expect(ProbeConfig.HTTPTarget(url: "https://x:1/") == nil)
        #expect(ProbeConfig.HTTPTarget(url: "http://x:99999/") == nil)
        #expect(ProbeConfig.hostAndPort("localhost:5432", defaultPort: nil)! == ("localhost", 5432))
        #expect(ProbeConfig.hostAndPort("localhost", defaultPort: nil) == nil)
    }
}

/// Probes and start gates through `RunnerCore` on the simulated machine.
@Suite("RunnerCoreProbes")
struct RunnerCoreProbeTests {
    func core(_ task: TaskConfig) throws -> RunnerCore {
        try RunnerCore(configuration: SimulatedWorld.configuration(task), identity: SimulatedWorld.identity)
    }

    func process(_ name: String, daemon: Bool = false, maxFailures: Int = 1) -> ProcessConfig {
        ProcessConfig(name: name, cmdline: "x", maxFailures: maxFailures, daemon: daemon, minDuration: 0)
    }

    func runIndex(_ world: SimulatedWorld, _ process: String, _ state: ProcessState) -> [Double] {
        world.runs(process).filter { $0.state == state }.compactMap { $0.stopTime ?? $0.startTime }
    }

    /// The client starts only after the server's readiness passed (at t0+3), not when it started.
    @Test func readyDependencyWaitsForTheFirstPassingReadiness() throws {
        var server = process("server")
        server.readiness = ProbeConfig(check: .tcp(host: "127.0.0.1", port: 1), interval: 1, timeout: 0.5)
        var client = process("client")
        client.dependencies = [(process: "server", condition: .ready)]
        var world = SimulatedWorld()
        let start = world.clock
        world.behaviours = ["server": [.exits(0, after: 10)], "client": [.exits(0, after: 1)]]
        world.probeScript = { _, now in (now >= start + 3, now >= start + 3 ? "connected" : "refused", 0.01) }
        var core = try core(TaskConfig(name: "t", processes: [server, client]))
        #expect(try world.run(&core) == .success)
        let clientFork = world.runs("client").first?.forkTime ?? 0
        let readyAt = world.probeStarts.first { $0.time >= start + 3 }?.time ?? 0
        #expect(clientFork >= readyAt && clientFork < readyAt + 0.1)
        #expect(world.log.contains("Process(client) waits for server ready."))
        #expect(world.published.last?.withReadiness == ["server"])
    }

    /// Liveness failing 3 times in a row records FAILED (a failure, restart rules apply) and
    /// the next run starts; the time from the first failure to the restart is under
    /// interval × max_consecutive_failures.
    @Test func failingLivenessFailsTheRunAndRestartsIt() throws {
        var daemon = process("daemon", daemon: true, maxFailures: 2)
        daemon.liveness = ProbeConfig(check: .tcp(host: "127.0.0.1", port: 1), interval: 1, timeout: 0.5, maxConsecutiveFailures: 3)
        var world = SimulatedWorld()
        let start = world.clock
        world.behaviours = ["daemon": [.runsUntilKilled(ignoresTerm: false), .runsUntilKilled(ignoresTerm: false)]]
        world.probeScript = { _, now in now < start + 5 ? (true, "connected", 0.01) : (false, "refused", 0.01) }
        var core = try core(TaskConfig(name: "t", processes: [daemon]))
        #expect(try world.run(&core) == .failed)
        let runs = world.runs("daemon")
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.state == .failed && $0.returnCode == KillPolicy.runnerKillReturnCode })
        let firstFailure = world.probeStarts.first { $0.time >= start + 5 }!.time
        let restarted = runs[1].forkTime!
        #expect(restarted - firstFailure <= 1 * 3 + 0.1)
        #expect(world.log.contains { $0.contains("failed its liveness probe 3 times in a row (refused)") })
    }

    /// A hanging probe is cut at its timeout: cancelled, counted as a failure.
    @Test func aHangingProbeIsCancelledAtItsTimeout() throws {
        var daemon = process("daemon", maxFailures: 1)
        daemon.liveness = ProbeConfig(check: .exec("sleep 100"), interval: 1, timeout: 0.25, maxConsecutiveFailures: 2)
        var world = SimulatedWorld()
        world.behaviours = ["daemon": [.runsUntilKilled(ignoresTerm: false)]]
        world.probeScript = { _, _ in nil }
        var core = try core(TaskConfig(name: "t", processes: [daemon]))
        #expect(try world.run(&core) == .failed)
        #expect(world.cancelledProbes.map(\.number).prefix(2) == [1, 2])
        #expect(world.log.contains { $0.contains("timed out after 0.25 s") })
    }

    /// The task's health check (Aurora's) failing kills the task, which ends FAILED.
    @Test func failingHealthCheckKillsTheTaskAsFailed() throws {
        var config = TaskConfig(name: "t", processes: [process("web", daemon: true)])
        config.healthCheck = ProbeConfig(check: .tcp(host: "127.0.0.1", port: 1), initialDelay: 2, interval: 1, timeout: 0.5, maxConsecutiveFailures: 1)
        var world = SimulatedWorld()
        let start = world.clock
        world.behaviours = ["web": [.runsUntilKilled(ignoresTerm: false)]]
        world.probeScript = { _, _ in (false, "HTTP 500", 0.01) }
        var core = try core(config)
        #expect(try world.run(&core) == .failed)
        #expect(world.probeStarts.first?.time == start + 2)
        #expect(world.log.contains("Failed health check! HTTP 500"))
    }

    /// A server that fails for good before becoming ready leaves its dependent waiting: the plan deadlocks → FAILED.
    @Test func aGateThatCanNeverOpenFailsTheTask() throws {
        var server = process("server")
        server.readiness = ProbeConfig(check: .tcp(host: "127.0.0.1", port: 1), interval: 1, timeout: 0.5)
        var client = process("client")
        client.dependencies = [(process: "server", condition: .ready)]
        var world = SimulatedWorld()
        world.behaviours = ["server": [.exits(1, after: 2)]]
        world.probeScript = { _, _ in (false, "refused", 0.01) }
        var core = try core(TaskConfig(name: "t", processes: [server, client]))
        #expect(try world.run(&core) == .failed)
        #expect(world.runs("client").isEmpty)
    }
}
