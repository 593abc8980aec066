import CThermosSys
import Glibc
import ThermosPlatform
public import ThermosCheckpoint
import ThermosConfig
import ThermosCoordination

// Starting a coordinator (reference §1.6 "Fork protocol", DESIGN §4, §7): lock its stream, hand
// it to a coordinator (a spare forked ahead by the fork server, which gets the run's arguments and
// the stream over its socket with SCM_RIGHTS, or one spawned for the run; either way the stream is
// its fd 3 and a SOCK_SEQPACKET socket its fd 4), record FORKED with its pid, then send the
// go-ahead. If the runner dies before
// the FORKED record is written, the coordinator reads EOF, finds no FORKED record for itself and
// exits without running anything.
extension LinuxRunnerPlatform {
    public func launch(_ request: CoordinatorLaunch) throws(RunnerError) -> ProcessStatus {
        let stream = try lockCoordinatorStream(request.checkpointPath, policy: request.fsync == .always ? .always : .none)
        do {
            try repair(stream, from: request.seq)
        } catch {
            try? stream.close()
            throw RunnerError(.checkpoint, "cannot repair \(request.checkpointPath): \(error)", errno: error.errno)
        }
        watchStream(path: request.checkpointPath)
        let started: StartedCoordinator
        do throws(RunnerError) {
            started = try startCoordinator(request, stream: stream.fileDescriptor)
        } catch {
            try? stream.close()
            throw error
        }
        defer { close(started.socket) }
        CrashPoint.afterSpawn.reach(process: request.process)
        let forked = ProcessStatus(
            seq: request.seq, process: request.process, state: .forked, coordinatorPid: started.pid, forkTime: started.forkTime)
        do {
            try stream.append(.processStatus(forked))
            try stream.close()
        } catch {
            if started.pidfd >= 0 {
                _ = cthermos_pidfd_send_signal(started.pidfd, SIGKILL)
                close(started.pidfd)
            } else {
                Glibc.kill(started.pid, SIGKILL)
            }
            throw RunnerError(.checkpoint, "cannot record FORKED for \(request.process): \(error)", errno: error.errno)
        }
        CrashPoint.afterForked.reach(process: request.process)
        var byte: UInt8 = 1
        _ = write(started.socket, &byte, 1)
        watchStarted(pid: started.pid, pidfd: started.pidfd)
        return forked
    }

    /// Watches a coordinator this runner just started through `pidfd` (its pid cannot have been
    /// reused yet, so there is nothing to validate). No pidfd means it is gone already (a forked
    /// coordinator is reaped by the fork server as it exits): its exit is reported at the next wait.
    private func watchStarted(pid: Int32, pidfd: Int32) {
        guard pidfd >= 0 else {
            exitedUnwatched.append(pid)
            return
        }
        guard cthermos_epoll_add(epoll, pidfd, Self.pidfdBase + UInt64(pidfd)) == 0 else {
            close(pidfd)
            return
        }
        pidfds[pidfd] = pid
    }

    /// Makes the stream end with its last committed record, from one read of it:
    /// - records at or above the new run's FORKED `seq` cannot belong to a committed run: the
    ///   WAITING that would own them was lost with the runner stream's last unsynced batch (a power
    ///   cut under `--fsync=group`) while the coordinator stream kept them. They are cut off so the
    ///   stream holds each `seq` once and the muxer reads this run's records, not a ghost's;
    /// - a torn last record (a crash mid-write) is cut off.
    private func repair(_ stream: CheckpointWriter, from seq: Int64) throws(CheckpointError) {
        guard stream.length > 0 else { return }
        let existing = try CheckpointReader.read(path: stream.path)
        let firstUncommitted = existing.entries.first { entry in
            if case .processStatus(let status) = entry.record { return (status.seq ?? -1) >= seq }
            return false
        }
        if let firstUncommitted {
            try stream.truncate(to: firstUncommitted.offset)
        } else if case .torn = existing.tail {
            try stream.truncate(to: existing.validLength)
        }
    }

    /// This process's user name and home directory, looked up once.
    static let runnerAccount: (String, String)? = {
        guard let entry = getpwuid(getuid()) else { return nil }
        return (String(cString: entry.pointee.pw_name), String(cString: entry.pointee.pw_dir))
    }()

    /// The coordinator command line of a run (after the binary path).
    func coordinatorArguments(_ request: CoordinatorLaunch, forkTime: Double) -> [String] {
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

    /// Opens the coordinator stream and takes its lock (its tail is repaired by `repair`). A
    /// coordinator orphaned by a runner crash (it exits as soon as it sees the runner gone) may
    /// still hold it for a moment.
    private func lockCoordinatorStream(_ path: String, policy: SyncPolicy) throws(RunnerError) -> CheckpointWriter {
        var attempts = 0
        while true {
            do {
                return try CheckpointWriter(path: path, policy: policy, lock: true, repairTornTail: false)
            } catch where error.errno == EWOULDBLOCK && attempts < 400 {
                attempts += 1
                usleep(5000)
            } catch {
                throw RunnerError(.launch, "Could not acquire checkpoint permission or lock for \(path): \(error)", errno: error.errno)
            }
        }
    }

    /// Spawns `thermos-coordinator <arguments>` (the one-run path) in a new session with fd 3 =
    /// `stream` and fd 4 = the other end of a SOCK_SEQPACKET pair whose first end is returned.
    func spawnCoordinator(_ launch: CoordinatorLaunch, stream: Int32) throws(RunnerError) -> StartedCoordinator {
        var pair: [Int32] = [-1, -1]
        guard cthermos_seqpacket_pair(&pair) == 0 else {
            throw RunnerError(.launch, "cannot create the coordinator socket: \(String(cString: strerror(errno)))")
        }
        defer { close(pair[1]) }
        let forkTime = now()
        var request = SpawnRequest(executable: coordinatorPath, arguments: [coordinatorPath] + coordinatorArguments(launch, forkTime: forkTime))
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 3: .inherit(stream), 4: .inherit(pair[1])]
        request.newSession = true
        // TERM/INT/HUP start blocked: a CLEANING SIGTERM to the group must not kill a coordinator
        // that has not yet set them to be ignored (it unblocks them after).
        request.blockedSignals = [SIGTERM, SIGINT, SIGHUP]
        let pid: pid_t
        do {
            pid = try request.spawn()
        } catch {
            close(pair[0])
            throw RunnerError(.launch, "cannot start \(coordinatorPath): \(error)", cause: error)
        }
        // Opened before the go-ahead, so even a coordinator that fails at once is seen to exit.
        return StartedCoordinator(pid: pid, socket: pair[0], pidfd: cthermos_pidfd_open(pid), forkTime: forkTime)
    }
}
