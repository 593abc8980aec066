import CThermosSys
import Glibc
import Logging

/// When the runner starts its fork server (`THERMOS_FORK_SERVER`).
enum ForkServerPolicy: String {
    /// At the second launch: a one-process task never starts one (its only coordinator is
    /// spawned for its run), every later coordinator is forked. The default.
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

// Choosing how a coordinator starts: forked by the fork server when there is one (started or
// replaced here as the policy says), else spawned for its run. Either way the caller gets its
// pid and the runner's end of its handshake socket (fd 4 in the coordinator).
extension LinuxRunnerPlatform {
    /// Starts the coordinator of one run with `stream` as its fd 3.
    func startCoordinator(arguments: [String], stream: Int32, sandbox: String) throws(RunnerError) -> (pid: pid_t, socket: Int32) {
        launches += 1
        if let server = usableForkServer(sandbox: sandbox) {
            var pair: [Int32] = [-1, -1]
            guard cthermos_seqpacket_pair(&pair) == 0 else {
                throw RunnerError(.launch, "cannot create the coordinator socket: \(String(cString: strerror(errno)))", errno: errno)
            }
            let result = server.fork(arguments: arguments, stream: stream, handshake: pair[1])
            close(pair[1])
            switch result {
            case .forked(let pid):
                return (pid, pair[0])
            case .refused(let code):
                // Out of processes or memory, or a request it could not read: try the one-run path.
                close(pair[0])
                Logger(label: "runner").warning("Fork server could not fork a coordinator: \(String(cString: strerror(code)))")
            case .serverFailed(let reason):
                // A child it may have forked before failing sees our end close, finds no FORKED
                // record of its own and exits without running anything.
                close(pair[0])
                Logger(label: "runner").warning("Fork server (pid \(server.pid)) failed: \(reason); replacing it")
                retireForkServer()
            }
        }
        return try spawnCoordinator(arguments: arguments, stream: stream)
    }

    /// The live fork server, started when the policy says it is time (a dead one is replaced);
    /// nil when this launch spawns its coordinator itself.
    private func usableForkServer(sandbox: String) -> ForkServerConnection? {
        if let server = forkServer {
            if server.isAlive { return server }
            Logger(label: "runner").warning("Fork server (pid \(server.pid)) exited; starting a new one")
            retireForkServer()
        }
        switch forkServerPolicy {
        case .off: return nil
        case .lazy where launches < 2: return nil
        case .lazy, .eager: break
        }
        guard let server = try? ForkServerConnection.start(coordinatorPath: coordinatorPath, sandbox: sandbox) else { return nil }
        forkServer = server
        return server
    }

    /// Stops the fork server (its coordinators live on) and forgets it; the next launch that
    /// needs one starts a new one.
    func retireForkServer() {
        forkServer?.stop()
        forkServer = nil
        reapChildren()
    }
}
