import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// What a chaos run measured (printed, for the record of longer runs).
struct ChaosFigures: CustomStringConvertible {
    var seed: UInt64
    var kills = 0
    var tasks = 0
    var runs = 0
    var exitCodes: [Int32: Int] = [:]
    var relaunches = 0
    var worstRelaunchDelay = 0.0
    /// Re-runs that waited for a lock its dead runner's half-spawned child still held (item 1).
    var deadHolderWaits = 0
    /// Re-runs that completed a finalization a kill interrupted (item 2).
    var finalizationsCompleted = 0
    var seconds = 0.0

    var description: String {
        "chaos seed \(seed): \(kills) runner kill -9s over \(tasks) tasks, \(runs) runner starts, exits \(exitCodes.sorted { $0.key < $1.key }), "
            + "\(relaunches) relaunches (worst \(Int(worstRelaunchDelay * 1000)) ms after min_duration), "
            + "\(deadHolderWaits) waits for a dead runner's lock, \(finalizationsCompleted) interrupted finalizations completed, \(Int(seconds)) s"
    }
}

/// SIGKILLs the runner at random points of a task with a chain, a parallel pair and a process
/// that fails once, re-running until the task is terminal; then checks exactly-once side
/// effects, every stream with the independent reader, no exit 5, the task file in
/// `tasks/finished`, no leftover process of the task, and no relaunch later than min_duration +
/// 100 ms. `THERMOS_CHAOS_KILLS` and `THERMOS_CHAOS_SEED` make a longer run.
@Suite(.timeLimit(.minutes(30)))
struct ChaosTests {
    static let task = #"""
        {"name": "chaos", "max_concurrency": 0, "processes": [
          {"name": "a", "min_duration": 0, "cmdline": "echo a >> effects.a; sleep 0.1"},
          {"name": "b", "min_duration": 0, "cmdline": "echo b >> effects.b; sleep 0.05"},
          {"name": "c", "min_duration": 0, "cmdline": "echo c >> effects.c"},
          {"name": "p", "min_duration": 0, "cmdline": "echo p >> effects.p; sleep 0.1"},
          {"name": "q", "min_duration": 0, "cmdline": "echo q >> effects.q; sleep 0.05"},
          {"name": "r", "min_duration": 0, "max_failures": 3,
           "cmdline": "echo r >> effects.r; [ $(wc -l < effects.r) -ge 2 ]"}],
         "constraints": [{"order": ["a", "b", "c"]}]}
        """#

    static func setting(_ name: String) -> UInt64? {
        getenv(name).flatMap { UInt64(String(cString: $0)) }
    }

    @Test func runnerKilledAtRandomPointsStillRunsEverythingExactlyOnce() throws {
        let seed = Self.setting("THERMOS_CHAOS_SEED") ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let targetKills = Int(Self.setting("THERMOS_CHAOS_KILLS") ?? 50)
        var random = SeededGenerator(seed: seed)
        var figures = ChaosFigures(seed: seed)
        let started = monotonicNow()
        let directory = TemporaryDirectory(prefix: "thermos-chaos")
        defer { directory.remove() }
        let config = directory.write("chaos.json", Self.task)
        while figures.kills < targetKills {
            figures.tasks += 1
            let taskID = "chaos-\(figures.tasks)"
            let task = FaultRoot(root: directory.path + "/root", sandbox: directory.path + "/sandbox-\(taskID)")
            var finished = false
            while !finished {
                figures.runs += 1
                let runner = task.start(config, taskID: taskID, outputPrefix: directory.path + "/\(taskID)-\(figures.runs)")
                // Most kills land early (spawns, handshakes, muxing), some while processes run.
                let delay = Double.random(in: 0...1, using: &random)
                usleep(UInt32((delay * delay * 0.4) * 1_000_000))
                runner.signal(SIGKILL)
                let status = runner.wait(timeout: 120)
                figures.exitCodes[status, default: 0] += 1
                let log = runner.stderr
                if log.contains("a child of it released the lock") { figures.deadHolderWaits += 1 }
                if log.contains("finalization was interrupted; completing it") { figures.finalizationsCompleted += 1 }
                if status == 128 + SIGKILL {
                    figures.kills += 1
                    continue
                }
                #expect(status == 0, "\(figures): run \(figures.runs) of \(taskID) exited \(status): \(runner.stderr.suffix(600))")
                finished = true
                check(task, taskID: taskID, figures: &figures)
            }
        }
        // Leave the last task finished too (the loop above already ran each to its end).
        figures.seconds = monotonicNow() - started
        print(figures)
    }

    private func check(_ task: FaultRoot, taskID: String, figures: inout ChaosFigures, sourceLocation: SourceLocation = #_sourceLocation) {
        for name in ["a", "b", "c", "p", "q"] {
            #expect(task.lines("effects.\(name)") == [name], "\(figures) \(taskID): \(name) ran \(task.lines("effects.\(name)").count) times", sourceLocation: sourceLocation)
        }
        #expect(task.lines("effects.r") == ["r", "r"], "\(figures) \(taskID): r ran \(task.lines("effects.r").count) times (fails once)", sourceLocation: sourceLocation)
        for stream in task.streams(taskID) {
            #expect(pythonReaderComplaint(stream) == nil, "\(figures) \(taskID)", sourceLocation: sourceLocation)
        }
        let state = task.state(taskID)
        #expect(state.taskState == .success, "\(figures) \(taskID)", sourceLocation: sourceLocation)
        #expect(task.taskFileExists(taskID, .finished) && !task.taskFileExists(taskID, .active), "\(figures) \(taskID)", sourceLocation: sourceLocation)
        #expect(eventually(timeout: 10) { TaskProcesses.find(sandbox: task.sandbox, runner: nil).isEmpty },
                "\(figures) \(taskID): leftover processes \(TaskProcesses.find(sandbox: task.sandbox, runner: nil))", sourceLocation: sourceLocation)
        // Relaunch latency: a run that follows an ended run of the same process starts within
        // min_duration (0) + 100 ms of the later of that end and the takeover of the runner that
        // started it.
        let takeovers = state.statuses.filter { $0.state == .active }.compactMap { $0.timestampMs.map { Double($0) / 1000 } }
        for runs in state.processes.values where runs.count > 1 {
            for (previous, next) in zip(runs, runs.dropFirst()) {
                guard let stop = previous.stopTime, let fork = next.forkTime else { continue }
                let takeover = takeovers.filter { $0 <= fork }.max() ?? stop
                let delay = fork - max(stop, takeover)
                figures.relaunches += 1
                figures.worstRelaunchDelay = max(figures.worstRelaunchDelay, delay)
                #expect(delay <= 0.1, "\(figures) \(taskID): \(next.process ?? "?") relaunched \(Int(delay * 1000)) ms late", sourceLocation: sourceLocation)
            }
        }
    }
}
