import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosConfig
@testable import ThermosRuntime

/// Recovery from every crash point: the runner is stopped before each action of a whole run in
/// turn (what was appended so far is the runner stream; coordinators live on), a new core replays
/// that stream and runs the task to its end. The outcome must be the uncrashed one, with no run
/// started twice and the task file finished.
struct RunnerCoreRecoveryTests {
    struct Scenario {
        var task: TaskConfig
        var behaviours: [String: [SimulatedWorld.Behaviour]]
        var events: [(Double, RunnerObservation)] = []

        func world() -> SimulatedWorld {
            var world = SimulatedWorld()
            world.behaviours = behaviours
            for (time, observation) in events { world.schedule(.observation(observation), after: time) }
            return world
        }
    }

    struct Outcome: Equatable {
        var taskState: TaskState
        var runs: [String: [ProcessState?]]
    }

    static func outcome(_ world: SimulatedWorld, _ state: TaskState) -> Outcome {
        let replayed = (try? CheckpointDispatcher.replay(world.runnerStream)) ?? RunnerState()
        var runs: [String: [ProcessState?]] = [:]
        for (name, list) in replayed.processes { runs[name] = list.map(\.state) }
        return Outcome(taskState: state, runs: runs)
    }

    static let scenarios: [String: Scenario] = [
        "retries, dependencies, ephemeral and finalizer": Scenario(
            task: TaskConfig(
                name: "t",
                processes: [
                    RunnerCoreTests.process("a", maxFailures: 2, minDuration: 1), RunnerCoreTests.process("b"),
                    RunnerCoreTests.process("e", ephemeral: true), RunnerCoreTests.process("f", final: true),
                ],
                constraints: [Constraint(order: ["a", "b"])]),
            behaviours: ["a": [.exits(1, after: 1), .exits(0, after: 1)], "e": [.runsUntilKilled(ignoresTerm: false)]]),
        "a lost coordinator under max_concurrency": Scenario(
            task: TaskConfig(
                name: "t", processes: [RunnerCoreTests.process("p1", minDuration: 1), RunnerCoreTests.process("p2", minDuration: 1)],
                maxConcurrency: 1),
            behaviours: ["p1": [.coordinatorDies(after: 2), .exits(0, after: 1)], "p2": [.exits(0, after: 1)]]),
    ]

    @Test(arguments: Array(scenarios.keys).sorted())
    func recoveryFromEveryCrashPoint(_ name: String) throws {
        let scenario = try #require(Self.scenarios[name])
        let configuration = SimulatedWorld.configuration(scenario.task)
        var baselineWorld = scenario.world()
        var baselineCore = try RunnerCore(configuration: configuration, identity: SimulatedWorld.identity)
        let baselineState = try baselineWorld.run(&baselineCore)
        let baseline = Self.outcome(baselineWorld, baselineState)
        #expect(baseline.runs.count == scenario.task.processes.count)
        let total = baselineWorld.actionsRun
        #expect(total > 20)

        for crashPoint in 0..<total {
            var world = scenario.world()
            world.crashBeforeAction = crashPoint
            var core = try RunnerCore(configuration: configuration, identity: SimulatedWorld.identity)
            do {
                _ = try world.run(&core)
                Issue.record("no crash before action \(crashPoint)")
                continue
            } catch is SimulatedWorld.Crashed {}
            world.crashBeforeAction = nil
            let crashedStates = world.taskStates
            var recovered = try RunnerCore.recovering(
                configuration: configuration, identity: SimulatedWorld.identity, records: world.runnerStream, now: world.clock)
            let state: TaskState
            if recovered.isTerminal {
                try world.execute(recovered.completeTerminalSweep(), on: &recovered)
                state = recovered.taskState
            } else {
                state = try world.run(&recovered)
            }
            let outcome = Self.outcome(world, state)
            if crashedStates.contains(.finalizing) && !crashedStates.contains(where: \.isTerminal) {
                // Taking over in FINALIZING writes FINALIZING again, which kills what runs (the
                // original's on_finalizing): a finalizer caught running is killed and run again.
                #expect(outcome.taskState == baseline.taskState, "crash before action \(crashPoint)")
                for (name, runs) in outcome.runs {
                    #expect(runs.last == baseline.runs[name]?.last, "crash before action \(crashPoint): \(name)")
                    let extra = runs.dropLast(1).filter { !(baseline.runs[name] ?? []).dropLast(1).contains($0) }
                    #expect(extra.allSatisfy { $0 == .killed || $0 == .lost }, "crash before action \(crashPoint): \(name)")
                }
            } else {
                #expect(outcome == baseline, "crash before action \(crashPoint)")
            }
            #expect(world.duplicateRuns == 0, "crash before action \(crashPoint)")
            #expect(world.taskFile == "finished", "crash before action \(crashPoint)")
            #expect(world.live.isEmpty, "crash before action \(crashPoint)")
        }
    }
}
