import CThermosSys
import Glibc
import ThermosPlatform

/// How a child run by `BoundedChild.run` ended.
enum BoundedChildOutcome {
    /// It exited (or was killed by a signal of its own); its stdout as captured.
    case exited(SpawnOutcome)
    /// The time limit passed: its whole process group was killed with SIGKILL.
    case timedOut
    /// This process got the signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) while waiting: the child's
    /// process group was killed with SIGKILL; the caller re-raises the signal.
    case interrupted(Int32)
}

/// Runs a program that must not run away — the DSL loader executing a user's config — in a
/// process group of its own, with stdin on /dev/null, stderr inherited and stdout captured, and
/// waits for it on events (pipe, pidfd, signalfd, timerfd), never by polling. At the time limit,
/// or when this process is told to stop (the child, in its own group, no longer gets the
/// terminal's ^C), the whole group is killed and reaped.
enum BoundedChild {
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    static func run(_ arguments: [String], timeLimit: Double) -> Result<BoundedChildOutcome, SpawnFailure> {
        // Block the stop signals on this thread and take them from a signalfd instead.
        var stopMask = sigset_t()
        var previousMask = sigset_t()
        sigemptyset(&stopMask)
        for signal in stopSignals { sigaddset(&stopMask, signal) }
        pthread_sigmask(SIG_BLOCK, &stopMask, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        let signals = cthermos_signalfd(&stopMask)
        let timer = cthermos_timerfd_create()
        defer {
            if signals >= 0 { close(signals) }
            if timer >= 0 { close(timer) }
        }
        guard signals >= 0, timer >= 0 else { return .failure(SpawnFailure(errno: errno, program: arguments[0])) }

        var pipe: [Int32] = [-1, -1]
        guard cthermos_pipe2(&pipe, O_CLOEXEC) == 0 else { return .failure(SpawnFailure(errno: errno, program: arguments[0])) }
        let spawned = spawnInOwnGroup(arguments, stdout: pipe[1])
        close(pipe[1])
        guard case .success(let pid) = spawned else {
            close(pipe[0])
            if case .failure(let failure) = spawned { return .failure(failure) }
            return .failure(SpawnFailure(errno: EINVAL, program: arguments[0]))
        }
        let pidfd = cthermos_pidfd_open(pid)
        defer {
            close(pipe[0])
            if pidfd >= 0 { close(pidfd) }
        }
        _ = cthermos_timerfd_arm(timer, timeLimit)

        var output: [UInt8] = []
        var outputOpen = true
        while true {
            var fds = [
                pollfd(fd: outputOpen ? pipe[0] : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                pollfd(fd: timer, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[2].revents != 0, case let signal = cthermos_signalfd_read(signals), signal > 0 {
                killGroup(pid)
                return .success(.interrupted(signal))
            }
            if fds[3].revents != 0 {
                killGroup(pid)
                return .success(.timedOut)
            }
            if fds[0].revents != 0 {
                outputOpen = readChunk(pipe[0], into: &output)
            }
            // Exited (pidfd readable), or no pidfd and the output closed: take what is left and reap.
            if fds[1].revents != 0 || (pidfd < 0 && !outputOpen) {
                while outputOpen, hasInput(pipe[0]) { outputOpen = readChunk(pipe[0], into: &output) }
                break
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return .success(.exited(SpawnOutcome(status: exit, output: output)))
    }

    /// Starts the child through the one spawn builder (`posix_spawnp`, clean signal state, no
    /// other fds) in a new process group (pgid = its pid), stderr inherited.
    private static func spawnInOwnGroup(_ arguments: [String], stdout: Int32) -> Result<pid_t, SpawnFailure> {
        var request = SpawnRequest(executable: arguments[0], arguments: arguments)
        request.searchPath = true
        request.newProcessGroup = true
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 1: .inherit(stdout), 2: .inherit(2)]
        do {
            return .success(try request.spawn())
        } catch {
            return .failure(SpawnFailure(errno: error.errnoValue ?? EINVAL, program: arguments[0]))
        }
    }

    /// SIGKILL to the child's process group (the loader and whatever the config started), then reap.
    private static func killGroup(_ pid: pid_t) {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Appends what one read returns; false at end of file or on an error.
    private static func readChunk(_ fd: Int32, into output: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                output.append(contentsOf: chunk[0..<count])
                return true
            }
            if count < 0 && errno == EINTR { continue }
            return false
        }
    }

    private static func hasInput(_ fd: Int32) -> Bool {
        var probe = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        return poll(&probe, 1, 0) > 0
    }
}
