import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosControl
@testable import ThermosRuntime

/// A machine for `RunnerCore` made of values only: coordinators are scripted (how long each run
/// lasts and how it ends), their streams are arrays, the runner stream is an array, and time is
/// a number that jumps to the next event. It executes the core's actions the way `TaskRunner`
/// does, and can stop the runner before any action (a crash) to test recovery.
struct SimulatedWorld {
    /// How one run of a process behaves: the same script as `FakePlatform`'s.
    typealias Behaviour = FakePlatform.Behaviour

    struct Coordinator {
        var process: String
        var seq: Int64
        var pid: Int32
        var ignoresTerm: Bool
    }

    enum Event {
        case running(Int32)
        case end(Int32, code: Int32)
        case coordinatorDies(Int32)
        case observation(RunnerObservation)
    }

    var clock: Double = 1_000_000
    var behaviours: [String: [Behaviour]] = [:]
    var failingLaunches: Set<String> = []
    /// The runner stream: every record appended, in order.
    private(set) var runnerStream: [RunnerCkpt] = []
    /// Each process's coordinator stream.
    private(set) var coordinatorStreams: [String: [ProcessStatus]] = [:]
    private(set) var live: [Int32: Coordinator] = [:]
    private(set) var launches: [CoordinatorLaunch] = []
    private(set) var terminated: [String] = []
    private(set) var taskFile: String = "none"
    private(set) var log: [String] = []
    /// Answers to control clients, in order.
    private(set) var replies: [ControlResponse] = []
    /// Answers probe attempts: (request, now) → result and how long the attempt takes; nil hangs.
    var probeScript: ((ProbeRequest, Double) -> (passed: Bool, detail: String, after: Double)?)?
    private(set) var probeStarts: [(attempt: ProbeAttempt, time: Double)] = []
    private(set) var cancelledProbes: [ProbeAttempt] = []
    private(set) var published: [ProbeReport] = []
    private(set) var peakConcurrency = 0
    /// Two coordinators of one process alive at once (a run started twice).
    private(set) var duplicateRuns = 0
    private var timeline: [(time: Double, event: Event)] = []
    private var nextPid: Int32 = 1000
    /// The muxer of the current runner: watermark and read offset per watched stream.
    private var watched: OrderedDictionary<String, (watermark: Int64, offset: Int)> = [:]
    private var watchedCoordinators: Set<Int32> = []

    /// Stops the runner before this many actions have run (a `kill -9` of the runner).
    var crashBeforeAction: Int?
    private(set) var actionsRun = 0

    struct Crashed: Error {}

    mutating func schedule(_ event: Event, after seconds: Double) {
        timeline.append((clock + seconds, event))
        timeline.sort { $0.time < $1.time }
    }

    static let identity = RunnerCore.Identity(pid: 4242, uid: 1000, userName: "tester")

    static func configuration(_ task: TaskConfig, runLimit: Int = .max, launchTime: Double = 1_000_000) -> RunnerConfiguration {
        RunnerConfiguration(
            task: task, taskID: "task", root: "/root", sandbox: "/sandbox", user: "tester", uid: 1000, hostname: "host",
            totalRunLimit: runLimit, launchTime: launchTime)
    }

    // MARK: - The shell

    /// Takes control and runs `core` to a terminal state (or until the scripted crash).
    mutating func run(_ core: inout RunnerCore, kill: (terminal: TaskState, wait: Double)? = nil) throws -> TaskState {
        watched = [:]
        watchedCoordinators = []
        try execute(core.takeControl(now: clock), on: &core)
        try mux(&core)
        if let kill { try execute(core.beginKill(terminal: kill.terminal, wait: kill.wait, duplicateState: false, now: clock), on: &core) }
        var steps = 0
        while !core.isTerminal {
            steps += 1
            precondition(steps < 100_000, "the runner does not converge")
            let (actions, wakeAt) = try core.step(now: clock)
            try execute(actions, on: &core)
            if core.isTerminal { break }
            if try mux(&core) > 0 { continue }
            guard let wakeAt else { break }
            if wakeAt <= clock { continue }
            try advance(until: wakeAt, &core)
        }
        return core.taskState
    }

    /// Moves time to the next event (at most to `deadline`) and delivers it.
    private mutating func advance(until deadline: Double, _ core: inout RunnerCore) throws {
        guard let next = timeline.first, next.time <= deadline else {
            clock = deadline
            return
        }
        timeline.removeFirst()
        clock = max(clock, next.time)
        var observations: [RunnerObservation] = []
        switch next.event {
        case .running(let pid):
            guard let entry = live[pid] else { return }
            write(ProcessStatus(seq: entry.seq + 1, process: entry.process, state: .running, startTime: clock, pid: pid + 1), for: entry.process)
        case .end(let pid, let code):
            guard let entry = live[pid] else { return }
            let state: ProcessState = code == 0 ? .success : code > 0 ? .failed : .killed
            write(ProcessStatus(seq: entry.seq + 2, process: entry.process, state: state, stopTime: clock, returnCode: code), for: entry.process)
            live[pid] = nil
            if watchedCoordinators.remove(pid) != nil { observations.append(.coordinatorExited(pid: pid)) }
        case .coordinatorDies(let pid):
            guard live.removeValue(forKey: pid) != nil else { return }
            if watchedCoordinators.remove(pid) != nil { observations.append(.coordinatorExited(pid: pid)) }
        case .observation(let observation):
            observations.append(observation)
        }
        // Streams first: a coordinator writes its end before it exits.
        try mux(&core)
        for observation in observations {
            try execute(core.observe(observation, now: clock), on: &core)
        }
    }

    /// Reads the watched coordinator streams and applies what is new; returns how many.
    @discardableResult
    mutating func mux(_ core: inout RunnerCore) throws -> Int {
        var count = 0
        for name in Array(watched.keys) {
            guard let entry = watched[name] else { continue }
            let stream = coordinatorStreams[name] ?? []
            watched[name]?.offset = stream.count
            for status in stream[entry.offset...] where (status.seq ?? -1) > entry.watermark {
                try execute(core.apply(.processStatus(status), now: clock), on: &core)
                count += 1
            }
        }
        return count
    }

    mutating func execute(_ actions: [RunnerAction], on core: inout RunnerCore) throws {
        for action in actions {
            if let crashBeforeAction, actionsRun >= crashBeforeAction { throw Crashed() }
            actionsRun += 1
            switch action {
            case .append(let record):
                runnerStream.append(record)
            case .launch(let request):
                launches.append(request)
                if failingLaunches.contains(request.process) {
                    try execute(core.observe(.launchFailed(process: request.process, reason: "scripted"), now: clock), on: &core)
                } else {
                    startCoordinator(request)
                }
            case .terminate(let run):
                guard let pid = run.coordinatorPid, let entry = live[pid] else { continue }
                terminated.append(entry.process)
                if !entry.ignoresTerm { schedule(.end(pid, code: -15), after: 0.002) }
            case .kill(let run):
                if let pid = run.coordinatorPid, live.removeValue(forKey: pid) != nil, watchedCoordinators.remove(pid) != nil {
                    schedule(.observation(.coordinatorExited(pid: pid)), after: 0)
                }
            case .signalOrphans:
                continue
            case .scanRuns(let purpose):
                // As TaskRunner: read the streams, scan, read again (a run found dead has its end in).
                try mux(&core)
                var scans: [String: ProcessScan] = [:]
                for (name, runs) in core.state.processes {
                    if let pid = runs.last?.coordinatorPid, live[pid] != nil { scans[name] = ProcessScan(coordinatorPid: pid) }
                }
                try mux(&core)
                try execute(core.observe(.scanned(purpose, scans), now: clock), on: &core)
            case .watchStream(let process, let watermark):
                let offset = watched[process]?.offset ?? 0
                watched[process] = (watermark, offset)
            case .unwatchStream(let process):
                watched[process] = nil
            case .watchCoordinator(_, let pid, _):
                if live[pid] != nil {
                    watchedCoordinators.insert(pid)
                } else {
                    try execute(core.observe(.coordinatorExited(pid: pid), now: clock), on: &core)
                }
            case .initializeTaskFile:
                if taskFile == "none" { taskFile = "active" }
            case .finalizeTaskFile:
                // Moved once; a sweep completed after a crash finds it moved already.
                precondition(taskFile != "none", "finalizing a task file that was never written")
                taskFile = "finished"
            case .sync, .crashPoint:
                continue
            case .log(let line):
                log.append(line)
            case .reply(_, let response):
                replies.append(response)
            case .startProbe(let request):
                probeStarts.append((request.attempt, clock))
                if let answer = probeScript?(request, clock) {
                    schedule(.observation(.probeFinished(request.attempt, passed: answer.passed, detail: answer.detail)), after: answer.after)
                }
            case .cancelProbe(let attempt):
                cancelledProbes.append(attempt)
            case .publishProbes(let report):
                published.append(report)
            }
        }
    }

    /// Starts a scripted coordinator and writes its FORKED record, as `LinuxRunnerPlatform.launch` does.
    private mutating func startCoordinator(_ request: CoordinatorLaunch) {
        if live.values.contains(where: { $0.process == request.process }) { duplicateRuns += 1 }
        let pid = nextPid
        nextPid += 2
        let behaviour = behaviours[request.process]?.isEmpty == false ? behaviours[request.process]!.removeFirst() : .exits(0, after: 1)
        var ignoresTerm = false
        switch behaviour {
        case .exits(let code, let seconds):
            schedule(.running(pid), after: 0.001)
            schedule(.end(pid, code: code), after: 0.001 + seconds)
        case .runsUntilKilled(let ignores):
            ignoresTerm = ignores
            schedule(.running(pid), after: 0.001)
        case .coordinatorDies(let seconds):
            schedule(.running(pid), after: 0.001)
            schedule(.coordinatorDies(pid), after: seconds)
        case .neverStarts:
            break
        }
        live[pid] = Coordinator(process: request.process, seq: request.seq, pid: pid, ignoresTerm: ignoresTerm)
        peakConcurrency = max(peakConcurrency, live.count)
        write(ProcessStatus(seq: request.seq, process: request.process, state: .forked, coordinatorPid: pid, forkTime: clock), for: request.process)
    }

    private mutating func write(_ status: ProcessStatus, for process: String) {
        coordinatorStreams[process, default: []].append(status)
    }

    // MARK: - Reading the results

    var taskStates: [TaskState] {
        runnerStream.compactMap { if case .taskStatus(let status) = $0 { status.state } else { nil } }
    }

    func runs(_ process: String) -> [ProcessStatus] {
        ((try? CheckpointDispatcher.replay(runnerStream))?.processes[process]) ?? []
    }
}
