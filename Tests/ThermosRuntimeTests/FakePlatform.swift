import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
@testable import ThermosRuntime

/// A simulated machine for the runner state machine: coordinators are scripted (how long each
/// run lasts and how it ends), time is a number that jumps to the next event, and coordinator
/// records are appended to real files in a temp root, exactly as a coordinator would.
final class FakePlatform: RunnerPlatform {
    /// How one run of a process behaves (also `SimulatedWorld`'s script).
    enum Behaviour: Hashable {
        /// Runs for `seconds`, then exits with `code`.
        case exits(Int32, after: Double)
        /// Runs until terminated; ignores SIGTERM when `ignoresTerm`.
        case runsUntilKilled(ignoresTerm: Bool)
        /// The coordinator dies after `seconds` without recording the end (→ LOST).
        case coordinatorDies(after: Double)
        /// The coordinator never records RUNNING (stuck before exec).
        case neverStarts
    }

    struct Live {
        var process: String
        var seq: Int64
        var checkpoint: String
        var coordinatorPid: Int32
        var pid: Int32
        var ignoresTerm: Bool
    }

    enum Action {
        case running(Int32)
        case end(Int32, code: Int32)
        case coordinatorDies(Int32)
        case signal(RunnerEvent)
    }

    var clock: Double = 1_000_000
    let runnerPid: Int32 = 4242
    let runnerUid: Int32 = Int32(bitPattern: getuid())
    var behaviours: [String: [Behaviour]] = [:]
    var failingLaunches: Set<String> = []
    private(set) var launches: [CoordinatorLaunch] = []
    private(set) var live: [Int32: Live] = [:]
    private var timeline: [(time: Double, action: Action)] = []
    private var nextPid: Int32 = 1000
    /// Highest number of simultaneously live coordinators seen.
    private(set) var peakConcurrency = 0
    /// SIGTERMs delivered, by process.
    private(set) var terminated: [String] = []

    func now() -> Double { clock }

    /// Schedules a kill/lose request `seconds` from now.
    func request(_ event: RunnerEvent, after seconds: Double) {
        schedule(clock + seconds, .signal(event))
    }

    private func schedule(_ time: Double, _ action: Action) {
        timeline.append((time, action))
        timeline.sort { $0.time < $1.time }
    }

    func launch(_ request: CoordinatorLaunch) throws(RunnerError) -> ProcessStatus {
        launches.append(request)
        if failingLaunches.contains(request.process) { throw RunnerError(.launch, "scripted launch failure") }
        let coordinator = nextPid
        nextPid += 2
        let behaviour = behaviours[request.process]?.isEmpty == false ? behaviours[request.process]!.removeFirst() : .exits(0, after: 1)
        var ignoresTerm = false
        switch behaviour {
        case .exits(let code, let seconds):
            schedule(clock + 0.001, .running(coordinator))
            schedule(clock + 0.001 + seconds, .end(coordinator, code: code))
        case .runsUntilKilled(let ignores):
            ignoresTerm = ignores
            schedule(clock + 0.001, .running(coordinator))
        case .coordinatorDies(let seconds):
            schedule(clock + 0.001, .running(coordinator))
            schedule(clock + seconds, .coordinatorDies(coordinator))
        case .neverStarts:
            break
        }
        live[coordinator] = Live(
            process: request.process, seq: request.seq, checkpoint: request.checkpointPath, coordinatorPid: coordinator,
            pid: coordinator + 1, ignoresTerm: ignoresTerm)
        peakConcurrency = max(peakConcurrency, live.count)
        let forked = ProcessStatus(seq: request.seq, process: request.process, state: .forked, coordinatorPid: coordinator, forkTime: clock)
        append(forked, to: request.checkpointPath)
        return forked
    }

    private func append(_ status: ProcessStatus, to path: String) {
        let writer = try! CheckpointWriter(path: path, policy: .none)
        try! writer.append(.processStatus(status))
        try! writer.close()
    }

    func watchCoordinator(process: String, pid: Int32, forkTime: Double) -> Bool { live[pid] != nil }
    func watchStream(path: String) {}

    func scan(_ run: ProcessStatus, owner: ProcessOwner) -> ProcessScan {
        guard let pid = run.coordinatorPid, let entry = live[pid] else { return ProcessScan() }
        return ProcessScan(coordinatorPid: pid, pid: run.pid == entry.pid ? entry.pid : nil)
    }

    func terminate(_ run: ProcessStatus, owner: ProcessOwner) {
        guard let pid = run.coordinatorPid, let entry = live[pid] else { return }
        terminated.append(entry.process)
        if !entry.ignoresTerm { schedule(clock + 0.002, .end(pid, code: -15)) }
    }

    func kill(_ run: ProcessStatus, owner: ProcessOwner) -> ProcessScan {
        let scan = scan(run, owner: owner)
        if let pid = run.coordinatorPid { live[pid] = nil }
        return scan
    }

    func signalOrphans(_ signal: Int32, sparing coordinators: Set<Int32>) {}

    func waitForEvents(timeout: Double) -> [RunnerEvent] {
        let deadline = clock + timeout
        guard let next = timeline.first, next.time <= deadline else {
            clock = deadline
            return [.timeout]
        }
        timeline.removeFirst()
        clock = max(clock, next.time)
        switch next.action {
        case .running(let coordinator):
            guard let entry = live[coordinator] else { return [] }
            append(ProcessStatus(seq: entry.seq + 1, process: entry.process, state: .running, startTime: clock, pid: entry.pid), to: entry.checkpoint)
            return [.streamChanged]
        case .end(let coordinator, let code):
            guard let entry = live[coordinator] else { return [] }
            let state: ProcessState = code == 0 ? .success : code > 0 ? .failed : .killed
            append(ProcessStatus(seq: entry.seq + 2, process: entry.process, state: state, stopTime: clock, returnCode: code), to: entry.checkpoint)
            live[coordinator] = nil
            return [.streamChanged, .coordinatorExited(pid: coordinator)]
        case .coordinatorDies(let coordinator):
            guard live.removeValue(forKey: coordinator) != nil else { return [] }
            return [.coordinatorExited(pid: coordinator)]
        case .signal(let event):
            return [event]
        }
    }
}
