import Testing
import ThermosCheckpoint
import ThermosConfig
import ThermosControl
@testable import ThermosRuntime

/// `thermos restart|stop|start|kill` decided by `RunnerCore` from records and times alone, their
/// records, and their replay after a crash; the closing line.
struct RunnerCoreControlTests {
    static let start = SimulatedWorld().clock

    func core(_ processes: [ProcessConfig], maxFailures: Int = 1) throws -> RunnerCore {
        try RunnerCore(
            configuration: SimulatedWorld.configuration(TaskConfig(name: "t", processes: processes, maxFailures: maxFailures)),
            identity: SimulatedWorld.identity)
    }

    /// A world whose `web` runs until killed (each run), with `requests` delivered at `start + t`
    /// and a kill at `killAt` to end the task.
    func world(_ requests: [(Double, ControlRequest)], killAt: Double = 30) -> SimulatedWorld {
        var world = SimulatedWorld()
        world.behaviours = ["web": Array(repeating: .runsUntilKilled(ignoresTerm: false), count: 5)]
        for (index, (at, request)) in requests.enumerated() {
            world.schedule(.observation(.controlRequested(request, client: Int32(index))), after: at)
        }
        world.schedule(.observation(.killRequested), after: killAt)
        return world
    }

    func controlRecords(_ world: SimulatedWorld) -> [RunnerCkpt] {
        world.runnerStream.filter {
            switch $0 {
            case .processStatus(let status): status.control != nil
            case .taskStatus(let status): status.control != nil
            case .runnerHeader: false
            }
        }
    }

    @Test func restartEndsTheRunAsAControlledKillAndStartsANewRunAtOnce() throws {
        var world = world([(1, .restart(process: "web"))])
        var core = try core([RunnerCoreTests.process("web", minDuration: 5)])
        #expect(try world.run(&core) == .killed)
        let runs = world.runs("web")
        #expect(runs.map(\.state) == [.killed, .killed])
        #expect(runs[0].control == .restart && runs[0].returnCode == -1)
        #expect(runs[1].control == nil, "the second run ends by the task's kill")
        // No min_duration wait, and no failure counted.
        #expect(runs[1].forkTime! - runs[0].stopTime! < 0.01)
        #expect(world.replies.count == 1)
        if case .ok(let message) = world.replies[0] { #expect(message.contains("restarting web")) } else { Issue.record("\(world.replies)") }
        #expect(world.log.contains("Process(web) ended by thermos restart [rc=-1]; not a failure."))
    }

    @Test func stopKeepsTheProcessDownUntilStart() throws {
        var world = world([(1, .stop(process: "web")), (2, .stop(process: "web")), (10, .start(process: "web"))])
        var core = try core([RunnerCoreTests.process("web", minDuration: 0)])
        #expect(try world.run(&core) == .killed)
        let runs = world.runs("web")
        #expect(runs.map(\.state) == [.killed, .killed])
        #expect(runs[0].control == .stop)
        #expect(runs[1].forkTime! >= Self.start + 10, "nothing ran while stopped")
        #expect(world.replies.map(\.isOK) == [true, true, true])
        #expect(world.replies[1].message == "web is already stopped")
        // stop ended a run: a KILLED record; start ended none: a TaskStatus carrying the decision.
        let records = controlRecords(world)
        #expect(records.count == 2)
        guard case .taskStatus(let decision) = records[1] else { Issue.record("\(records)"); return }
        #expect(decision.state == .active && decision.control == ControlDecision(action: .start, process: "web"))
    }

    @Test func stopBetweenRunsIsRecordedAsADecision() throws {
        var world = SimulatedWorld()
        world.behaviours = ["web": [.exits(1, after: 1), .exits(1, after: 1)]]
        // web fails at ~1 s and waits out its 5 s min_duration; stopped at 3 s it does not come back.
        world.schedule(.observation(.controlRequested(.stop(process: "web"), client: 1)), after: 3)
        world.schedule(.observation(.killRequested), after: 20)
        var core = try core([RunnerCoreTests.process("web", maxFailures: 0, minDuration: 5)])
        #expect(try world.run(&core) == .killed)
        #expect(world.runs("web").map(\.state) == [.failed])
        let records = controlRecords(world)
        guard records.count == 1, case .taskStatus(let status) = records[0] else { Issue.record("\(records)"); return }
        #expect(status.control == ControlDecision(action: .stop, process: "web"))
    }

    @Test func replayKeepsStoppedAndStartedDecisions() throws {
        var world = world([(1, .stop(process: "web")), (10, .start(process: "web"))])
        let processes = [RunnerCoreTests.process("web", minDuration: 0)]
        var core = try core(processes)
        _ = try world.run(&core)
        let configuration = SimulatedWorld.configuration(TaskConfig(name: "t", processes: processes))
        let stream = world.runnerStream
        let stopIndex = try #require(stream.firstIndex { if case .processStatus(let s) = $0 { s.control == .stop } else { false } })
        let startIndex = try #require(stream.firstIndex { if case .taskStatus(let s) = $0 { s.control?.action == .start } else { false } })
        // A runner crashed after the stop: the replayed core keeps web down.
        var stopped = try RunnerCore.recovering(
            configuration: configuration, identity: SimulatedWorld.identity, records: stream[...stopIndex], now: Self.start + 2)
        #expect(stopped.stoppedProcesses == ["web"])
        let (actions, _) = try stopped.step(now: Self.start + 2)
        #expect(!actions.contains { if case .launch = $0 { true } else { false } })
        // After the start: web runs again.
        var started = try RunnerCore.recovering(
            configuration: configuration, identity: SimulatedWorld.identity, records: stream[...startIndex], now: Self.start + 11)
        #expect(started.stoppedProcesses.isEmpty)
        let (next, _) = try started.step(now: Self.start + 11)
        #expect(next.contains { if case .launch(let request) = $0 { request.process == "web" } else { false } })
    }

    @Test func aRunEndedByAControlIsKilledAgainWhenARunnerTakesOver() throws {
        var world = world([(1, .stop(process: "web"))])
        let processes = [RunnerCoreTests.process("web", minDuration: 0)]
        var core = try core(processes)
        _ = try world.run(&core)
        let stream = world.runnerStream
        let stopIndex = try #require(stream.firstIndex { if case .processStatus(let s) = $0 { s.control == .stop } else { false } })
        // The runner died right after recording the stop, before its kill took effect.
        var resumed = try RunnerCore.recovering(
            configuration: SimulatedWorld.configuration(TaskConfig(name: "t", processes: processes)),
            identity: SimulatedWorld.identity, records: stream[...stopIndex], now: Self.start + 2)
        let actions = try resumed.takeControl(now: Self.start + 2)
        #expect(actions.contains { if case .kill(let run) = $0 { run.process == "web" && run.control == .stop } else { false } })
    }

    @Test func refusalsNameTheProblem() throws {
        var world = world([
            (1, .restart(process: "nope")), (1.1, .start(process: "web")), (1.2, .restart(process: "cleanup")),
            (1.3, .stop(process: "web")), (1.4, .restart(process: "web")),
        ])
        var core = try core([RunnerCoreTests.process("web"), RunnerCoreTests.process("cleanup", final: true)])
        #expect(try world.run(&core) == .killed)
        let codes: [ControlResponse.Code?] = world.replies.map { if case .error(let code, _) = $0 { code } else { nil } }
        #expect(codes == [.unknownProcess, .invalidState, .invalidState, nil, .invalidState])
        #expect(world.replies[0].message.contains("no process 'nope' in task task (processes: web, cleanup)"))
        #expect(world.replies[1].message == "web is already running")
        #expect(world.replies[4].message.contains("thermos start"))
    }

    @Test func killOverTheSocketIsAStagedKillThatRunsFinalProcesses() throws {
        var world = SimulatedWorld()
        world.behaviours = ["web": [.runsUntilKilled(ignoresTerm: false)]]
        world.schedule(.observation(.controlRequested(.kill(preemptionWait: 7), client: 1)), after: 1)
        var core = try core([RunnerCoreTests.process("web"), RunnerCoreTests.process("cleanup", final: true)])
        #expect(try world.run(&core) == .killed)
        #expect(world.taskStates == [.active, .active, .cleaning, .finalizing, .killed])
        #expect(world.runs("cleanup").map(\.state) == [.success])
        #expect(world.log.last == "Task KILLED: kill requested (thermos kill)")
        #expect(world.replies == [.ok("killing the task (preemption wait 7.0 s)")])
    }

    @Test func closingLinesNameHowAndWhy() throws {
        var failing = SimulatedWorld()
        failing.behaviours = ["worker": [.exits(1, after: 1), .exits(1, after: 1), .exits(1, after: 1)]]
        var core = try core([RunnerCoreTests.process("worker", maxFailures: 3, minDuration: 0), RunnerCoreTests.process("ok")])
        #expect(try failing.run(&core) == .failed)
        #expect(failing.log.last == "Task FAILED: process worker failed 3 times (max_failures 3)")

        var succeeding = SimulatedWorld()
        var four = try self.core((1...3).map { RunnerCoreTests.process("p\($0)") } + [RunnerCoreTests.process("fin", final: true)])
        #expect(try succeeding.run(&four) == .success)
        #expect(succeeding.log.last == "Task SUCCESS: all 4 processes finished")

        var lost = SimulatedWorld()
        lost.behaviours = ["web": [.runsUntilKilled(ignoresTerm: false)]]
        lost.schedule(.observation(.loseRequested), after: 1)
        var lostCore = try self.core([RunnerCoreTests.process("web")])
        #expect(try lost.run(&lostCore) == .lost)
        #expect(lost.log.last == "Task LOST: lose requested (SIGUSR2)")
    }
}

extension ControlResponse {
    var isOK: Bool { if case .ok = self { true } else { false } }
}
