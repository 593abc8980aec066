import CThermosSys
import Glibc
public import Logging
import Synchronization
import ThermosConfig
import ThermosPlatform

/// The runner's console (`thermos run --console`, `simplerun` by default): a thread of the
/// runner that follows every process's latest run with a `LogFollower` and prints each line with
/// a `LogLinePrinter` on the runner's standard output. It owns its inotify and waits in `poll`
/// (events only), so the runner's event loop never reads or writes a log, and a terminal or pipe
/// that stops reading stalls only this thread. `finish()` prints what is left and joins it.
public final class ConsoleFollower: Sendable {
    private let logDirectory: String
    private let sandbox: String
    private let processes: [String]
    private let colour: Bool
    private let logger: Logger
    private let wakeup: Int32
    private let stopping = Atomic<Bool>(false)
    /// The thread handle, written once by `start` before anything else can read it.
    private let thread = Mutex<pthread_t?>(nil)

    /// Starts following `configuration`'s processes on stdout; nil (and a warning) if the thread
    /// cannot be started — the task runs on without a console.
    public static func start(_ configuration: RunnerConfiguration, logger: Logger) -> ConsoleFollower? {
        let console = ConsoleFollower(
            logDirectory: configuration.logDir, sandbox: configuration.sandbox,
            processes: configuration.task.processes.map(\.name), logger: logger)
        guard let console, console.spawn() else {
            logger.warning("Console disabled: cannot start its thread")
            return nil
        }
        return console
    }

    init?(logDirectory: String, sandbox: String, processes: [String], logger: Logger) {
        self.logDirectory = logDirectory
        self.sandbox = sandbox
        self.processes = processes
        self.logger = logger
        colour = LogLinePrinter.wantsColour()
        wakeup = cthermos_eventfd()
        guard wakeup >= 0 else { return nil }
    }

    private func spawn() -> Bool {
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&handle, nil, { context in
            let console = Unmanaged<ConsoleFollower>.fromOpaque(context!).takeRetainedValue()
            console.loop()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<ConsoleFollower>.fromOpaque(context).release()
            close(wakeup)
            return false
        }
        thread.withLock { $0 = handle }
        return true
    }

    /// Prints everything the processes wrote until now, then stops the thread.
    public func finish() {
        stopping.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(wakeup, &one, MemoryLayout<UInt64>.size)
        if let handle = thread.withLock({ $0 }) { pthread_join(handle, nil) }
        close(wakeup)
    }

    private func loop() {
        // A reader that went away (`thermos run --console | head`) must not kill the runner:
        // SIGPIPE raised by this thread's writes stays pending here, the write fails with EPIPE.
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, nil)
        let logger = self.logger
        let follower: LogFollower
        do {
            follower = try LogFollower(logDirectory: logDirectory, anchor: sandbox, processes: processes) {
                logger.warning("Console: \($0)")
            }
        } catch {
            logger.warning("Console disabled: \(error)")
            return
        }
        var printer = LogLinePrinter(processes: processes, colour: colour)
        var fds = [pollfd(fd: follower.descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)]
        while !stopping.load(ordering: .acquiring) {
            follower.update(shouldContinue: { !stopping.load(ordering: .relaxed) && !printer.isClosed }) { printer.print($0) }
            printer.flush()
            if printer.isClosed { return }
            if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { break }
        }
        follower.finish { printer.print($0) }
        printer.flush()
    }
}
