import CThermosSys
import Glibc
import ThermosPlatform
import ThermosCheckpoint

/// The real `RunnerPlatform`: coordinators started with `posix_spawn`, their exits seen through
/// pidfds, coordinator streams watched with inotify, deadlines on a timerfd and signals on a
/// signalfd — all in one epoll set waited on by the runner's single thread. The runner is a
/// child subreaper, so double-forked leftovers of its processes stay its children.
public final class LinuxRunnerPlatform: RunnerPlatform {
    /// The signals the runner takes through its signalfd. Block them (`blockRunnerSignals`)
    /// before any thread exists, so that every thread inherits the mask.
    /// As PID 1 of a container a signal the process neither blocks nor handles is dropped, so
    /// SIGQUIT is taken here too.
    public static let runnerSignals: [Int32] = [SIGCHLD, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2]

    let epoll: Int32
    let timer: Int32
    let signals: Int32
    let inotify: Inotify
    /// pidfd → coordinator pid.
    var pidfds: [Int32: Int32] = [:]
    var watchedStreams: Set<String> = []
    /// The streams written since the runner last read them (`LinuxRunnerPlatform+Streams.swift`).
    var streamChanges = StreamChanges()
    /// The fork server that forks the coordinators (`LinuxRunnerPlatform+ForkServer.swift`).
    var forkServer: ForkServerConnection?
    /// When the fork server is started (`THERMOS_FORK_SERVER`, default `lazy`).
    let forkServerPolicy = ForkServerPolicy.fromEnvironment()
    /// Coordinators started so far.
    var launches = 0
    /// Coordinators gone before their exit could be watched (reported at the next wait).
    var exitedUnwatched: [Int32] = []
    /// The task's control socket while the runner holds the task (`thermos restart|stop|start`).
    var controlServer: ControlServer?
    /// Probe attempts in flight (their fds are in the epoll set under tokens of their own).
    lazy var probeRunner = LinuxProbeRunner(epoll: epoll)
    public let coordinatorPath: String
    public let runnerPid: Int32 = getpid()
    public let runnerUid: Int32 = Int32(bitPattern: getuid())

    static let signalToken: UInt64 = 1
    static let timerToken: UInt64 = 2
    static let inotifyToken: UInt64 = 3
    static let pidfdBase: UInt64 = 1 << 32

    /// Blocks the runner signals in the calling thread (call first thing in `main`).
    public static func blockRunnerSignals() {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in runnerSignals { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
    }

    /// - Parameter coordinatorPath: the `thermos-coordinator` binary; default: beside this
    ///   executable, or `$THERMOS_COORDINATOR`.
    public init(coordinatorPath: String? = nil) throws(RunnerError) {
        self.coordinatorPath = coordinatorPath ?? Self.defaultCoordinatorPath()
        guard access(self.coordinatorPath, X_OK) == 0 else {
            throw RunnerError(
                .launch,
                "thermos-coordinator not found at \(self.coordinatorPath): build it (swift build) or set THERMOS_COORDINATOR")
        }
        Self.blockRunnerSignals()
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in Self.runnerSignals { sigaddset(&mask, signal) }
        do throws(PlatformError) {
            // Double-forked leftovers of the task must stay our children (DESIGN §2.4).
            try checked(cthermos_set_child_subreaper(), "become a child subreaper (prctl PR_SET_CHILD_SUBREAPER)")
            epoll = try checked(cthermos_epoll_create(), "create the event loop (epoll_create1)")
            timer = try checked(cthermos_timerfd_create(), "create the timer (timerfd_create)")
            signals = try checked(cthermos_signalfd(&mask), "take signals through a signalfd")
            inotify = try Inotify()
            try checked(cthermos_epoll_add(epoll, signals, Self.signalToken), "add the signalfd to epoll")
            try checked(cthermos_epoll_add(epoll, timer, Self.timerToken), "add the timerfd to epoll")
            try checked(cthermos_epoll_add(epoll, inotify.descriptor, Self.inotifyToken), "add inotify to epoll")
        } catch {
            throw RunnerError(.internalError, "cannot set up the event loop: \(error)", cause: error)
        }
    }

    deinit {
        retireForkServer()
        for fd in pidfds.keys { close(fd) }
        for fd in [epoll, timer, signals] { close(fd) }
    }

    static func defaultCoordinatorPath() -> String {
        if let override = getenv("THERMOS_COORDINATOR"), override.pointee != 0 { return String(cString: override) }
        return Files.directory(of: Files.currentExecutable) + "/thermos-coordinator"
    }

    public func now() -> Double {
        SystemWallClock().now()
    }

    // MARK: - Watching

    @discardableResult
    public func watchCoordinator(process: String, pid: Int32, forkTime: Double) -> Bool {
        guard !pidfds.values.contains(pid) else { return true }
        let fd = cthermos_pidfd_open(pid)
        guard fd >= 0 else { return false }
        // A pid recorded by an earlier runner may have been reused: check it is the coordinator.
        guard let entry = ProcessTable.entry(pid), abs(entry.startTime - forkTime) < ProcessValidation.maximumStartTimeDrift,
            cthermos_epoll_add(epoll, fd, Self.pidfdBase + UInt64(fd)) == 0
        else {
            close(fd)
            return false
        }
        pidfds[fd] = pid
        return true
    }

    /// Watches a coordinator stream for new records. A stream that cannot be watched (no such
    /// file yet: the launch creates it and watches again) is read on the next event anyway.
    public func watchStream(path: String) {
        guard !watchedStreams.contains(path) else { return }
        if let watch = try? inotify.watch(path, for: .modified) {
            watchedStreams.insert(path)
            streamChanges.watching(path, as: watch)
        } else {
            streamChanges.cannotWatch(path)
        }
    }

    /// Removes the stream's watch as its run ends. Each removal frees its inotify mark in the
    /// background; marks left at the end are freed by closing the instance, which waits for a
    /// kernel grace period (5–20 ms measured) — at the end of every task, before it exits.
    public func unwatchStream(path: String) {
        guard watchedStreams.remove(path) != nil, let watch = streamChanges.forget(path) else { return }
        inotify.unwatch(watch)
    }

    public func waitForEvents(timeout: Double) -> [RunnerEvent] {
        if !exitedUnwatched.isEmpty {
            defer { exitedUnwatched = [] }
            return exitedUnwatched.map { .coordinatorExited(pid: $0) }
        }
        var events: [RunnerEvent] = []
        forkServer?.keepOneAhead(now: now())
        // The timerfd gives sub-millisecond deadlines; should arming it fail, epoll's own
        // (millisecond) timeout takes over, so the runner never sleeps past a deadline.
        let armed = cthermos_timerfd_arm(timer, max(timeout, 1e-6)) == 0
        let fallback = armed ? -1 : Int32(min(max(timeout, 0), 3600) * 1000) + 1
        var tokens = [UInt64](repeating: 0, count: 64)
        var count: Int32 = -1
        while count < 0 {
            count = cthermos_epoll_wait(epoll, &tokens, Int32(tokens.count), fallback)
            if count < 0 && errno != EINTR { break }
        }
        if count == 0 { events.append(.timeout) }
        for token in tokens.prefix(Int(max(count, 0))) {
            if let control = controlEvents(for: token) {
                events += control
                continue
            }
            switch token {
            case Self.signalToken:
                events += drainSignals()
            case Self.timerToken:
                if cthermos_timerfd_drain(timer) > 0 { events.append(.timeout) }
            case Self.inotifyToken:
                streamChanges.absorb(inotify.drainWatches())
                events.append(.streamChanged)
            case let probe where probeRunner.owns(probe):
                if let event = probeRunner.handle(probe) { events.append(event) }
            default:
                let fd = Int32(token - Self.pidfdBase)
                if let pid = pidfds.removeValue(forKey: fd) {
                    // Closing the pidfd removes it from the set anyway; the explicit removal only
                    // keeps the set tidy, so its result does not matter.
                    _ = cthermos_epoll_remove(epoll, fd)
                    close(fd)
                    events.append(.coordinatorExited(pid: pid))
                }
            }
        }
        // Disarming can only fail for a bad fd; the next wait re-arms (or falls back) anyway.
        _ = cthermos_timerfd_arm(timer, 0)
        expireControlConnections()
        reapChildren()
        return events
    }

    private func drainSignals() -> [RunnerEvent] {
        var events: [RunnerEvent] = []
        while true {
            let signal = cthermos_signalfd_read(signals)
            if signal <= 0 { break }
            switch signal {
            case SIGINT, SIGTERM, SIGUSR1: events.append(.killRequested)
            case SIGUSR2: events.append(.loseRequested)
            // SIGQUIT kills at once: a second kill request cuts a staged kill's wait to zero.
            case SIGQUIT: events += [.killRequested, .killRequested]
            default: break
            }
        }
        return events
    }

    /// Reaps every exited child (coordinators and adopted orphans); exit codes come from the
    /// checkpoints, so they are not needed.
    func reapChildren() {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            probeRunner.reapedChild(pid, status: status)
        }
    }
}
