import ThermosConfig
import OrderedCollections
import CThermosSys
import Glibc
public import ThermosCheckpoint

// Starting a coordinator (reference §1.6 "Fork protocol", DESIGN §4): lock its stream, spawn it
// with the locked stream as fd 3 and a handshake pipe as fd 4, record FORKED with its pid, then
// release it. If the runner dies before the FORKED record is written, the coordinator reads EOF,
// finds no FORKED record for itself and exits without running anything.
extension LinuxRunnerPlatform {
    public func launch(_ request: CoordinatorLaunch) throws(RunnerError) -> ProcessStatus {
        let stream = try lockCoordinatorStream(request.checkpointPath, policy: request.fsync == .always ? .always : .none)
        watchStream(path: request.checkpointPath)
        var handshake: [Int32] = [-1, -1]
        guard cthermos_pipe2(&handshake, O_CLOEXEC) == 0 else {
            try? stream.close()
            throw RunnerError(.launch, "cannot create handshake pipe: \(String(cString: strerror(errno)))")
        }
        defer {
            if handshake[0] >= 0 { close(handshake[0]) }
            if handshake[1] >= 0 { close(handshake[1]) }
        }
        // Move both inherited fds above 4 so the dup2s onto 3 and 4 cannot clobber each other.
        let streamFD = fcntl(stream.fileDescriptor, F_DUPFD_CLOEXEC, 10)
        let handshakeFD = fcntl(handshake[0], F_DUPFD_CLOEXEC, 10)
        defer {
            close(streamFD)
            close(handshakeFD)
        }
        let forkTime = now()
        let pid: pid_t
        do {
            pid = try spawnCoordinator(request, forkTime: forkTime, streamFD: streamFD, handshakeFD: handshakeFD)
        } catch {
            try? stream.close()
            throw error
        }
        CrashPoint.reach("after-spawn", process: request.process)
        let forked = ProcessStatus(
            seq: request.seq, process: request.process, state: .forked, coordinatorPid: pid, forkTime: forkTime)
        do {
            try stream.append(.processStatus(forked))
            try stream.close()
        } catch {
            Glibc.kill(pid, SIGKILL)
            throw RunnerError(.checkpoint, "cannot record FORKED for \(request.process): \(error)")
        }
        CrashPoint.reach("after-forked", process: request.process)
        var byte: UInt8 = 1
        _ = write(handshake[1], &byte, 1)
        watchCoordinator(process: request.process, pid: pid, forkTime: forkTime)
        return forked
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
                throw RunnerError(.launch, "Could not acquire checkpoint permission or lock for \(path): \(error)")
            }
        }
    }

    private func spawnCoordinator(_ request: CoordinatorLaunch, forkTime: Double, streamFD: Int32, handshakeFD: Int32) throws(RunnerError) -> pid_t {
        var arguments = [
            coordinatorPath,
            "--checkpoint", request.checkpointPath, "--handshake-fd", "4",
            "--process", request.process, "--seq", String(request.seq), "--fork-time", "\(forkTime)",
            "--cmdline", request.cmdline, "--sandbox", request.sandbox, "--log-dir", request.logDirectory,
            "--logger-destination", request.logging.destination.rawValue, "--logger-mode", request.logging.mode.rawValue,
            "--rotate-size", String(request.logging.rotateSize), "--rotate-backups", String(request.logging.rotateBackups),
            "--fsync", request.fsync.rawValue,
        ]
        if let user = request.user { arguments += ["--user", user] }
        if request.chroot { arguments.append("--chroot") }
        if request.preserveEnvironment { arguments.append("--preserve-env") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, streamFD, 3)
        posix_spawn_file_actions_adddup2(&actions, handshakeFD, 4)
        cthermos_spawn_addclosefrom(&actions, 5)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // TERM/INT/HUP start blocked: a CLEANING SIGTERM to the group must not kill a coordinator
        // that has not yet set them to be ignored (it unblocks them after).
        let blocked: [Int32] = [SIGTERM, SIGINT, SIGHUP]
        cthermos_spawnattr_clean_signals(&attributes, blocked, Int32(blocked.count), cthermos_POSIX_SPAWN_SETSID)

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, coordinatorPath, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw RunnerError(.launch, "cannot start \(coordinatorPath): \(String(cString: strerror(result)))")
        }
        return pid
    }
}
