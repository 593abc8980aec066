import Testing
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner
@testable import ThermosRuntime

/// `RunnerCore` driven with records and times only (no files, no processes), through the
/// reference §6 scenarios a simulated machine can play, and recovery from every crash point.
struct RunnerCoreTests {
    static func process(
        _ name: String, maxFailures: Int = 1, minDuration: Int = 5, ephemeral: Bool = false, final: Bool = false, daemon: Bool = false
    ) -> ProcessConfig {
        ProcessConfig(name: name, cmdline: "x", maxFailures: maxFailures, daemon: daemon, ephemeral: ephemeral, minDuration: minDuration, final: final)
    }

    func core(_ task: TaskConfig, runLimit: Int = .max) throws -> RunnerCore {
        try RunnerCore(configuration: SimulatedWorld.configuration(task, runLimit: runLimit), identity: SimulatedWorld.identity)
    }

    /// Where in the runner stream `process` first reached `state`.
    func position(_ world: SimulatedWorld, _ process: String, _ state: ProcessState) -> Int {
        world.runnerStream.firstIndex { if case .processStatus(let s) = $0 { s.process == process && s.state == state } else { false } } ?? -1
    }

    func states(_ world: SimulatedWorld, _ process: String) -> [ProcessState?] {
        world.runs(process).map(\.state)
    }

    @Test func aSuccessfulProcessWritesTheOriginalSequence() throws {
        var world = SimulatedWorld()
        var core = try core(TaskConfig(name: "t", processes: [Self.process("hello")]))
        #expect(try world.run(&core) == .success)
        #expect(world.taskStates == [.active, .cleaning, .finalizing, .success])
        #expect(states(world, "hello") == [.success])
        #expect(world.launches.map(\.logDirectory) == ["/sandbox/.logs/hello/0"])
        #expect(world.taskFile == "finished")
        #expect(world.log.last == "Task SUCCESS: all 1 process finished")
        guard case .runnerHeader(let header) = world.runnerStream[1] else { Issue.record("no header second"); return }
        #expect(header.taskID == "task" && header.uid == 1000 && header.hostname == "host")
    }

    /// §6.7 TestFailingRunner: pK has K runs, the first K−1 FAILED, each retried after min_duration.
    @Test func failingProcessesAreRetriedAfterMinDuration() throws {
        var world = SimulatedWorld()
        world.behaviours = ["p1": [.exits(0, after: 1)], "p2": [.exits(1, after: 1), .exits(0, after: 1)],
                            "p3": [.exits(1, after: 1), .exits(1, after: 1), .exits(0, after: 1)]]
        let processes = (1...3).map { Self.process("p\($0)", maxFailures: $0, minDuration: 30) }
        var core = try core(TaskConfig(name: "t", processes: processes))
        #expect(try world.run(&core) == .success)
        #expect(states(world, "p3") == [.failed, .failed, .success])
        #expect(states(world, "p2") == [.failed, .success])
        let runs = world.runs("p3")
        for (ended, next) in zip(runs, runs.dropFirst()) {
            #expect(next.forkTime! - ended.stopTime! >= 30)
        }
    }

    /// §6.8 TestFailureLimit: a→b→c, b fails: deadlock makes the task FAILED and c never runs.
    @Test func aDeadlockedPlanFailsTheTask() throws {
        var world = SimulatedWorld()
        world.behaviours = ["b": [.exits(1, after: 1)]]
        let task = TaskConfig(
            name: "t", processes: [Self.process("a"), Self.process("b"), Self.process("c")], constraints: [Constraint(order: ["a", "b", "c"])],
            maxFailures: 2)
        var core = try core(task)
        #expect(try world.run(&core) == .failed)
        #expect(states(world, "a") == [.success])
        #expect(states(world, "b") == [.failed])
        #expect(world.runs("c").isEmpty)
    }

    /// §6.8 TestTaskSucceedsIfMaxFailures0.
    @Test func maxFailuresZeroTaskSucceedsDespiteFailedProcesses() throws {
        var world = SimulatedWorld()
        for name in ["f1", "f2"] { world.behaviours[name] = [.exits(1, after: 1), .exits(1, after: 1)] }
        let processes = ["f1", "f2", "s1", "s2"].map { Self.process($0, maxFailures: 2, minDuration: 1) }
        var core = try core(TaskConfig(name: "t", processes: processes, maxFailures: 0))
        #expect(try world.run(&core) == .success)
        #expect(states(world, "f1") == [.failed, .failed])
        #expect(states(world, "s2") == [.success])
    }

    /// §6.10 TestConcurrencyBasic: max_concurrency is never exceeded.
    @Test func maxConcurrencyIsNeverExceeded() throws {
        var world = SimulatedWorld()
        var core = try core(TaskConfig(name: "t", processes: (1...5).map { Self.process("p\($0)") }, maxConcurrency: 2))
        #expect(try world.run(&core) == .success)
        #expect(world.peakConcurrency == 2)
        #expect(world.launches.count == 5)
    }

    /// §6.10 TestRunnerBasic: three waves of dependencies run in order.
    @Test func dependenciesRunInWaves() throws {
        var world = SimulatedWorld()
        let names = (1...6).map { "t\($0)" }
        let orders = [["t1", "t3"], ["t1", "t4"], ["t2", "t3"], ["t2", "t4"], ["t3", "t5"], ["t3", "t6"], ["t4", "t5"], ["t4", "t6"]]
        var core = try core(TaskConfig(name: "t", processes: names.map { Self.process($0) }, constraints: orders.map { Constraint(order: $0) }))
        #expect(try world.run(&core) == .success)
        for order in orders {
            #expect(position(world, order[0], .success) < position(world, order[1], .waiting))
        }
    }

    /// §6.14 test_process_kill: a command killed by SIGKILL is KILLED (-9) and run again.
    @Test func aKilledCommandIsRerunWithoutConsumingAFailure() throws {
        var world = SimulatedWorld()
        world.behaviours["p"] = [.exits(-9, after: 2), .exits(0, after: 1)]
        var core = try core(TaskConfig(name: "t", processes: [Self.process("p", minDuration: 1)]))
        #expect(try world.run(&core) == .success)
        #expect(states(world, "p") == [.killed, .success])
        #expect(world.runs("p")[0].returnCode == -9)
    }

    /// §6.14 test_coordinator_kill: a vanished coordinator is LOST and rerun once min_duration allows.
    @Test func aVanishedCoordinatorIsLostAndRerun() throws {
        var world = SimulatedWorld()
        world.behaviours["p"] = [.coordinatorDies(after: 2), .exits(0, after: 1)]
        var core = try core(TaskConfig(name: "t", processes: [Self.process("p", minDuration: 3)]))
        #expect(try world.run(&core) == .success)
        let runs = world.runs("p")
        #expect(runs.map(\.state) == [.lost, .success])
        // Relaunched when min_duration allows, not on the safety timer.
        #expect(runs[1].forkTime! - (runs[0].forkTime! + 2) < 3.1)
    }

    @Test func aCoordinatorStuckBeforeRunningIsLostAfterSixtySeconds() throws {
        var world = SimulatedWorld()
        world.behaviours["p"] = [.neverStarts, .exits(0, after: 1)]
        let start = world.clock
        var core = try core(TaskConfig(name: "t", processes: [Self.process("p", minDuration: 0)]))
        #expect(try world.run(&core) == .success)
        let runs = world.runs("p")
        #expect(runs.map(\.state) == [.lost, .success])
        #expect(runs[1].forkTime! - start > RunnerCore.lostTimeout)
        #expect(runs[1].forkTime! - start < RunnerCore.lostTimeout + 1)
    }

    /// §6.6 TestEphemeralTask: an ephemeral still running at CLEANING gets SIGTERM (KILLED -15).
    @Test func aRunningEphemeralIsTerminatedInCleaning() throws {
        var world = SimulatedWorld()
        world.behaviours["ephemeral_sleepy"] = [.runsUntilKilled(ignoresTerm: false)]
        var core = try core(TaskConfig(name: "t", processes: [Self.process("ephemeral_sleepy", ephemeral: true), Self.process("sleepy")]))
        #expect(try world.run(&core) == .success)
        #expect(states(world, "sleepy") == [.success])
        #expect(world.runs("ephemeral_sleepy").map(\.returnCode) == [-15])
        #expect(world.terminated == ["ephemeral_sleepy"])
    }

    /// §6.9 TestSequentialFinalizationSchedule and TestTaskSucceedsDespiteFinalizationFailure.
    @Test func finalizersRunInOrderAndTheirFailureDoesNotFailTheTask() throws {
        var world = SimulatedWorld()
        var core = try core(TaskConfig(
            name: "t", processes: [Self.process("main"), Self.process("f1", final: true), Self.process("f2", final: true)],
            constraints: [Constraint(order: ["f1", "f2"])]))
        #expect(try world.run(&core) == .success)
        #expect(position(world, "main", .success) < position(world, "f1", .waiting))
        #expect(position(world, "f1", .success) < position(world, "f2", .waiting))

        var failing = SimulatedWorld()
        failing.behaviours["f1"] = [.exits(1, after: 1)]
        var second = try self.core(TaskConfig(
            name: "t", processes: [Self.process("main"), Self.process("f1", final: true), Self.process("f2", final: true)],
            constraints: [Constraint(order: ["f1", "f2"])]))
        #expect(try failing.run(&second) == .success)
        #expect(states(failing, "f1") == [.failed])
        #expect(failing.runs("f2").isEmpty)
        #expect(failing.log.contains("Finalizing plan deadlocked."))
    }

    /// §6.9 TestFinalizationRunsDespiteFailure.
    @Test func finalizersRunAfterARegularFailure() throws {
        var world = SimulatedWorld()
        world.behaviours["main"] = [.exits(1, after: 1)]
        var core = try core(TaskConfig(name: "t", processes: [Self.process("main"), Self.process("finalizer", final: true)]))
        #expect(try world.run(&core) == .failed)
        #expect(states(world, "finalizer") == [.success])
    }

    /// §6.14 staged kill: SIGTERM in CLEANING, finalizers still run, task KILLED.
    @Test func aKillRequestStagesTheKillAndStillRunsFinalizers() throws {
        var world = SimulatedWorld()
        world.behaviours["main"] = [.runsUntilKilled(ignoresTerm: false)]
        world.schedule(.observation(.killRequested), after: 10)
        var core = try core(TaskConfig(name: "t", processes: [Self.process("main"), Self.process("finalizer", final: true)]))
        #expect(try world.run(&core) == .killed)
        #expect(world.taskStates == [.active, .active, .cleaning, .finalizing, .killed])
        #expect(world.runs("main").last?.returnCode == -15)
        #expect(states(world, "finalizer") == [.success])
    }

    @Test func aLoseRequestEndsLostAndKillsWhatIsLeft() throws {
        var world = SimulatedWorld()
        world.behaviours["main"] = [.runsUntilKilled(ignoresTerm: true)]
        world.schedule(.observation(.loseRequested), after: 3)
        var core = try core(TaskConfig(name: "t", processes: [Self.process("main")]))
        #expect(try world.run(&core) == .lost)
        #expect(world.taskStates == [.active, .active, .cleaning, .lost])
        #expect(world.runs("main").last?.state == .killed && world.runs("main").last?.returnCode == -1)
        #expect(world.live.isEmpty)
    }

    /// A second kill request cuts the preemption wait short.
    @Test func aSecondKillRequestKillsAtOnce() throws {
        var world = SimulatedWorld()
        world.behaviours["main"] = [.runsUntilKilled(ignoresTerm: true)]
        world.schedule(.observation(.killRequested), after: 1)
        world.schedule(.observation(.killRequested), after: 2)
        var core = try core(TaskConfig(name: "t", processes: [Self.process("main")]))
        let start = world.clock
        #expect(try world.run(&core) == .killed)
        #expect(world.clock - start < 3)
        #expect(world.log.contains("Kill requested again: killing what is left now."))
    }

    @Test func theFinalizationBudgetCoversCleaningAndSkipsFinalizing() throws {
        var world = SimulatedWorld()
        world.behaviours["stubborn"] = [.runsUntilKilled(ignoresTerm: true)]
        var core = try core(TaskConfig(
            name: "t", processes: [Self.process("main"), Self.process("stubborn", ephemeral: true), Self.process("finalizer", final: true)],
            finalizationWait: 3))
        #expect(try world.run(&core) == .success)
        #expect(world.taskStates == [.active, .cleaning, .success])
        #expect(world.runs("stubborn").last?.returnCode == -1)
        #expect(world.runs("finalizer").isEmpty)
    }

    @Test func aLaunchFailureIsRecordedFailedFromWaiting() throws {
        var world = SimulatedWorld()
        world.failingLaunches = ["p"]
        var core = try core(TaskConfig(name: "t", processes: [Self.process("p")]))
        #expect(try world.run(&core) == .failed)
        #expect(states(world, "p") == [.failed])
        let recorded = world.runnerStream.compactMap { if case .processStatus(let s) = $0 { s.state } else { nil } }
        #expect(recorded == [.waiting, .failed])
    }

    @Test func theRunLimitStopsAProcessThatNeverSucceeds() throws {
        var world = SimulatedWorld()
        world.behaviours["p"] = Array(repeating: .exits(1, after: 0.1), count: 10)
        var core = try core(TaskConfig(name: "t", processes: [Self.process("p", maxFailures: 0, minDuration: 0)]), runLimit: 4)
        #expect(try world.run(&core) == .failed)
        #expect(world.runs("p").count == 4)
    }

    @Test func aTerminalTaskCannotBeTakenOver() throws {
        var world = SimulatedWorld()
        let task = TaskConfig(name: "t", processes: [Self.process("p")])
        var core = try core(task)
        #expect(try world.run(&core) == .success)
        var resumed = try RunnerCore.recovering(
            configuration: SimulatedWorld.configuration(task), identity: SimulatedWorld.identity, records: world.runnerStream, now: world.clock)
        #expect(resumed.isTerminal)
        #expect(throws: RunnerError.self) { try resumed.takeControl(now: world.clock) }
        #expect(try resumed.step(now: world.clock).actions.isEmpty)
    }

    /// Replay rebuilds exactly the state the live core had, with nothing to do.
    @Test func replayRebuildsTheLiveState() throws {
        var world = SimulatedWorld()
        world.behaviours["p"] = [.exits(1, after: 1), .exits(0, after: 1)]
        let task = TaskConfig(name: "t", processes: [Self.process("p", maxFailures: 2, minDuration: 1), Self.process("f", final: true)])
        var core = try core(task)
        #expect(try world.run(&core) == .success)
        let replayed = try RunnerCore.recovering(
            configuration: SimulatedWorld.configuration(task), identity: SimulatedWorld.identity, records: world.runnerStream, now: world.clock)
        #expect(replayed.state == core.state)
        #expect(replayed.regularPlan == core.regularPlan)
        #expect(replayed.finalizingPlan == core.finalizingPlan)
    }
}
