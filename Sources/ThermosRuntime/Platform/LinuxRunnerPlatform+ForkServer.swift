import CThermosSys
import Glibc
import Logging
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform

/// When the runner starts its fork server (`THERMOS_FORK_SERVER`).
enum ForkServerPolicy: String {
    /// At the second launch, or the first of a step that starts several: a one-process task
    /// never starts one (its only coordinator is spawned for its run), every later coordinator
    /// is forked. The default.
    case lazy
    /// At the first launch, so every coordinator is forked.
    case eager
    /// Never: every coordinator is spawned and exec'd for its run (for comparisons and tests).
    case off

    static func fromEnvironment() -> ForkServerPolicy {
        guard let value = getenv("THERMOS_FORK_SERVER") else { return .lazy }
        return ForkServerPolicy(rawValue: String(cString: value)) ?? .lazy
    }
}

/// A coordinator started for a run and not yet released: its pid, the runner's end of its
/// handshake socket (fd 4 in the coordinator), a pidfd watching it (-1 if none could be opened)
/// and the fork time to record in FORKED.
struct StartedCoordinator {
    let pid: pid_t
    let socket: Int32
    let pidfd: Int32
    let forkTime: Double
}

// Choosing how a coordinator starts: a spare forked ahead by the fork server when there is one
// (the server started or replaced here as the policy says), else spawned for its run.
extension LinuxRunnerPlatform {
    /// Starts the fork server before the first launch of a task that will start more than one
    /// coordinator (as the policy permits), so its start-up overlaps the runner's own (lock,
    /// header, task file) instead of delaying a launch.
    public func expectLaunches(processes: Int, sandbox: String) {
        guard forkServer == nil, processes >= 2 else { return }
        _ = usableForkServer(sandbox: sandbox, upcoming: processes)
    }

    /// Has the fork server fork spares for `requests` launches ahead of them (one batch of a
    /// step: the server forks while the runner works through them).
    public func prepareLaunches(_ requests: [CoordinatorLaunch]) {
        guard let first = requests.first, let server = usableForkServer(sandbox: first.sandbox, upcoming: requests.count) else { return }
        if !server.reserve(requests.count, now: now()) {
            Logger(label: "runner").warning("Fork server (pid \(server.pid)) failed: cannot ask it for spares; replacing it")
            retireForkServer()
        }
    }

    /// Starts the coordinator of one run with `stream` as its fd 3: hands the run to a spare, or
    /// spawns a coordinator for it. Either way it waits for the go-ahead on its socket.
    func startCoordinator(_ request: CoordinatorLaunch, stream: Int32) throws(RunnerError) -> StartedCoordinator {
        launches += 1
        // The run's fork time is its launch, as for a spawned coordinator (retries are seen to
        // wait out min_duration); a spare is younger than `maximumSpareAge`, well inside the
        // start-time drift pid validation allows.
        let forkTime = now()
        while let server = usableForkServer(sandbox: request.sandbox, upcoming: 0) {
            switch server.takeSpare(now: forkTime) {
            case .spare(let spare):
                let payload = ForkServerProtocol.encodeRequest(coordinatorArguments(request, forkTime: forkTime))
                guard payload.count <= ForkServerProtocol.largestRequest else {
                    spare.discard()
                    Logger(label: "runner").warning("Run request of \(request.process) too large for a spare (\(payload.count) bytes); spawning its coordinator")
                    return try spawnCoordinator(request, stream: stream)
                }
                guard SocketMessage.send(payload, descriptors: [stream], on: spare.socket) == 0 else {
                    // The spare died since it was checked: try the next one.
                    spare.discard()
                    continue
                }
                return StartedCoordinator(pid: spare.pid, socket: spare.socket, pidfd: spare.pidfd, forkTime: forkTime)
            case .refused(let code):
                // Out of processes or memory: try the one-run path.
                Logger(label: "runner").warning("Fork server could not fork a coordinator: \(String(cString: strerror(code)))")
                return try spawnCoordinator(request, stream: stream)
            case .serverFailed(let reason):
                Logger(label: "runner").warning("Fork server (pid \(server.pid)) failed: \(reason); replacing it")
                retireForkServer()
                return try spawnCoordinator(request, stream: stream)
            }
        }
        return try spawnCoordinator(request, stream: stream)
    }

    /// The live fork server, started when the policy says it is time for `upcoming` more
    /// launches (a dead one is replaced); nil when this launch spawns its coordinator itself.
    private func usableForkServer(sandbox: String, upcoming: Int) -> ForkServerConnection? {
        if let server = forkServer {
            if server.isAlive { return server }
            Logger(label: "runner").warning("Fork server (pid \(server.pid)) exited; starting a new one")
            retireForkServer()
        }
        switch forkServerPolicy {
        case .off: return nil
        case .lazy where launches + upcoming < 2: return nil
        case .lazy, .eager: break
        }
        guard let server = try? ForkServerConnection.start(coordinatorPath: coordinatorPath, sandbox: sandbox) else { return nil }
        forkServer = server
        return server
    }

    /// Stops the fork server and its unused spares (its coordinators live on) and forgets it;
    /// the next launch that needs one starts a new one.
    func retireForkServer() {
        forkServer?.stop()
        forkServer = nil
        reapChildren()
    }
}
