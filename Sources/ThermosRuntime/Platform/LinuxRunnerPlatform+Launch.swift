import CThermosSys
import Glibc
import ThermosPlatform
public import ThermosCheckpoint
import ThermosConfig
import ThermosCoordination

// Starting a coordinator (reference §1.6 "Fork protocol", DESIGN §4): lock its stream, hand it
// to a coordinator (the pre-started standby over its socket with SCM_RIGHTS, or a new one spawned
// with the stream as fd 3; fd 4 is a SOCK_SEQPACKET socket either way), record FORKED with its
// pid, then send the go-ahead. If the runner dies before the FORKED record is written, the
// coordinator reads EOF, finds no FORKED record for itself and exits without running anything.
extension LinuxRunnerPlatform {
    public func launch(_ request: CoordinatorLaunch) throws(RunnerError) -> ProcessStatus {
        let stream = try lockCoordinatorStream(request.checkpointPath, policy: request.fsync == .always ? .always : .none)
        do {
            try dropUncommittedRuns(stream, from: request.seq)
        } catch {
            try? stream.close()
            throw RunnerError(.checkpoint, "cannot repair \(request.checkpointPath): \(error)", errno: error.errno)
        }
        watchStream(path: request.checkpointPath)
        var channel: (pid: pid_t, socket: Int32)
        let forkTime = now()
        do throws(RunnerError) {
            let arguments = coordinatorArguments(request, forkTime: forkTime)
            if let standby = takeStandby(), assign(arguments, stream: stream.fileDescriptor, to: standby) {
                channel = (standby.pid, standby.socket)
            } else {
                channel = try spawnCoordinator(arguments: arguments, stream: stream.fileDescriptor)
            }
        } catch {
            try? stream.close()
            throw error
        }
        defer {
            close(channel.socket)
            spawnStandby()
        }
        CrashPoint.afterSpawn.reach(process: request.process)
        let forked = ProcessStatus(
            seq: request.seq, process: request.process, state: .forked, coordinatorPid: channel.pid, forkTime: forkTime)
        do {
            try stream.append(.processStatus(forked))
            try stream.close()
        } catch {
            Glibc.kill(channel.pid, SIGKILL)
            throw RunnerError(.checkpoint, "cannot record FORKED for \(request.process): \(error)", errno: error.errno)
        }
        CrashPoint.afterForked.reach(process: request.process)
        var byte: UInt8 = 1
        _ = write(channel.socket, &byte, 1)
        watchCoordinator(process: request.process, pid: channel.pid, forkTime: forkTime)
        return forked
    }

    /// Records at or above the new run's FORKED `seq` cannot belong to a committed run: the WAITING
    /// that would own them was lost with the runner stream's last unsynced batch (a power cut
    /// under `--fsync=group`) while the coordinator stream kept them. Cut them off so the stream
    /// holds each `seq` once and the muxer reads this run's records, not a ghost's.
    private func dropUncommittedRuns(_ stream: CheckpointWriter, from seq: Int64) throws(CheckpointError) {
        let existing = try CheckpointReader.read(path: stream.path)
        guard let first = existing.entries.first(where: { entry in
            if case .processStatus(let status) = entry.record { return (status.seq ?? -1) >= seq }
            return false
        }) else { return }
        try stream.truncate(to: first.offset)
    }

    /// This process's user name and home directory, looked up once.
    static let runnerAccount: (String, String)? = {
        guard let entry = getpwuid(getuid()) else { return nil }
        return (String(cString: entry.pointee.pw_name), String(cString: entry.pointee.pw_dir))
    }()

    /// Sends a run (its arguments and the locked stream; the go-ahead follows FORKED) to the
    /// standby. On failure (it died meanwhile) the standby is retired and false returned.
    private func assign(_ arguments: [String], stream: Int32, to standby: StandbyCoordinator) -> Bool {
        let payload = Array(arguments.joined(separator: "\0").utf8)
        let sent = payload.withUnsafeBytes { cthermos_send_with_fd(standby.socket, $0.baseAddress, $0.count, stream) }
        guard sent == 0 else {
            close(standby.socket)
            Glibc.kill(standby.pid, SIGKILL)
            return false
        }
        return true
    }

    /// The standby coordinator if it is alive and young enough to be assigned; else retires it.
    private func takeStandby() -> StandbyCoordinator? {
        guard let standby else { return nil }
        self.standby = nil
        if now() - standby.startedAt < Self.standbyLifetime, ProcessTable.entry(standby.pid) != nil {
            return standby
        }
        close(standby.socket)
        Glibc.kill(standby.pid, SIGKILL)
        return nil
    }

    /// Starts a coordinator ahead of the next launch; without one, launches start their own.
    func spawnStandby() {
        guard standby == nil, let channel = try? spawnCoordinator(arguments: ["--standby"], stream: nil) else { return }
        standby = StandbyCoordinator(pid: channel.pid, socket: channel.socket, startedAt: now())
    }

    /// The coordinator command line of a run (after the binary path).
    private func coordinatorArguments(_ request: CoordinatorLaunch, forkTime: Double) -> [String] {
        var invocation = CoordinatorInvocation(
            checkpoint: request.checkpointPath, process: request.process, seq: request.seq, forkTime: forkTime,
            cmdline: request.cmdline, sandbox: request.sandbox, logDirectory: request.logDirectory)
        invocation.handshakeFD = 4
        invocation.user = request.user
        invocation.chroot = request.chroot
        invocation.preserveEnvironment = request.preserveEnvironment
        invocation.destination = CoordinatorInvocation.Destination(request.logging.destination)
        invocation.mode = CoordinatorInvocation.Mode(request.logging.mode)
        invocation.rotateSize = request.logging.rotateSize
        invocation.rotateBackups = request.logging.rotateBackups
        invocation.fsync = request.fsync
        invocation.environment = request.environment
        invocation.cwd = request.cwd
        if let (name, home) = Self.runnerAccount {
            invocation.runnerUser = name
            invocation.runnerHome = home
        }
        return invocation.arguments
    }

    /// Opens the coordinator stream and takes its lock. A coordinator orphaned by a runner crash
    /// (it exits as soon as it sees the runner gone) may still hold it for a moment.
    private func lockCoordinatorStream(_ path: String, policy: SyncPolicy) throws(RunnerError) -> CheckpointWriter {
        var attempts = 0
        while true {
            do {
                return try CheckpointWriter(path: path, policy: policy, lock: true)
            } catch where error.errno == EWOULDBLOCK && attempts < 400 {
                attempts += 1
                usleep(5000)
            } catch {
                throw RunnerError(.launch, "Could not acquire checkpoint permission or lock for \(path): \(error)", errno: error.errno)
            }
        }
    }

    /// Spawns `thermos-coordinator <arguments>` in a new session with fd 4 = our end of a
    /// SOCK_SEQPACKET pair (handshake, or the assignment of a standby) and fd 3 = `stream` if given.
    private func spawnCoordinator(arguments: [String], stream: Int32?) throws(RunnerError) -> (pid: pid_t, socket: Int32) {
        var pair: [Int32] = [-1, -1]
        guard cthermos_seqpacket_pair(&pair) == 0 else {
            throw RunnerError(.launch, "cannot create the coordinator socket: \(String(cString: strerror(errno)))")
        }
        defer { close(pair[1]) }
        var request = SpawnRequest(executable: coordinatorPath, arguments: [coordinatorPath] + arguments)
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 4: .inherit(pair[1])]
        if let stream { request.descriptors[3] = .inherit(stream) }
        request.newSession = true
        // TERM/INT/HUP start blocked: a CLEANING SIGTERM to the group must not kill a coordinator
        // that has not yet set them to be ignored (it unblocks them after).
        request.blockedSignals = [SIGTERM, SIGINT, SIGHUP]
        do {
            return (try request.spawn(), pair[0])
        } catch {
            close(pair[0])
            throw RunnerError(.launch, "cannot start \(coordinatorPath): \(error)", cause: error)
        }
    }
}
