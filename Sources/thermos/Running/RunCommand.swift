public import ArgumentParser
import Glibc
import Logging
import ThermosCheckpoint
import ThermosConfig
import ThermosRuntime

/// Flags shared by `run` and `simplerun`.
struct RunnerFlags: ParsableArguments {
    @Option(name: [.customLong("root")], help: ArgumentHelp("The checkpoint root (default $THERMOS_ROOT, else /var/run/thermos, or a per-user root when that is not writable).", valueName: "dir"))
    var root: String?

    @Option(help: ArgumentHelp("The sandbox (cwd) of the processes (default /var/lib/thermos/sandbox/<task id>, or <per-user root>/sandbox/<task id>).", valueName: "dir"))
    var sandbox: String?

    @Option(name: [.customLong("log-dir"), .customLong("log_dir")], help: ArgumentHelp("Process log directory (default <sandbox>/.logs).", valueName: "dir"))
    var logDir: String?

    @Option(name: [.customLong("task-id"), .customLong("task_id")], help: "Bind to this task id (default <name>-<time>).")
    var taskID: String?

    @Option(help: "Run the processes as this user (requires root when it is not you).")
    var user: String?

    @Option(name: [.customShort("P"), .customLong("port")], help: ArgumentHelp("Bind a named port (repeatable).", valueName: "name:port"))
    var ports: [String] = []

    @Option(name: [.customShort("E"), .customLong("environment")], help: ArgumentHelp("Bind a template variable (repeatable).", valueName: "name=value"))
    var bindings: [String] = []

    @Flag(help: "Detach and run in the background; prints the task id.")
    var daemon = false

    @Flag(help: "Take over the task from a live runner (kills it).")
    var force = false

    @OptionGroup var processOptions: ProcessOptions

    /// `--root`, else `$THERMOS_ROOT`, else `/var/run/thermos` or the per-user root (`DefaultRoot`).
    var checkpointRoot: String {
        root.map(absolutePath) ?? DefaultRoot.forWriting().root
    }

    /// The runner configuration of a launched task.
    func configuration(_ launched: LaunchedTask, launch: TaskLaunch, account: RunAccount, sandbox: String) -> RunnerConfiguration {
        if root == nil, let notice = DefaultRoot.forWriting().notice { printError(notice) }
        var configuration = launch.configuration(
            launched, root: checkpointRoot, sandbox: sandbox, logDir: logDir.map(absolutePath), user: account.name,
            uid: account.uid, hostname: hostName())
        processOptions.apply(to: &configuration)
        return configuration
    }

    /// Runs the configuration in the foreground (this process becomes `thermos-runner`), or
    /// re-launches detached with `--daemon`.
    func execute(_ configuration: RunnerConfiguration, relaunch arguments: [String]) throws -> Never {
        if daemon {
            printError("Daemonizing and starting runner.")
            do {
                // Flags go before a `--` (simplerun's command line follows it and stays as it is).
                let separator = arguments.firstIndex(of: "--") ?? arguments.endIndex
                let flags = arguments[..<separator].filter { $0 != "--daemon" } + ["--task-id", configuration.taskID]
                try daemonize(flags + arguments[separator...])
            } catch {
                throw fail(error.message, code: RunExit.runnerError)
            }
            print(configuration.taskID)
            Glibc.exit(0)
        }
        do {
            try RunnerExec.exec(configuration, force: force, logLevel: processOptions.logLevel, exitCodes: .run)
        } catch {
            throw fail(error.message, code: RunnerInvocation.ExitCodes.run.status(for: error))
        }
    }
}

/// How the processes run and log, and how records are synced: flags shared by `run`,
/// `simplerun` and `runner` (original spellings accepted).
struct ProcessOptions: ParsableArguments {
    @Flag(name: [.customLong("enable-chroot"), .customLong("enable_chroot")], help: "chroot the processes into the sandbox (root).")
    var enableChroot = false

    @Flag(name: [.customLong("preserve-env"), .customLong("preserve_env")], help: "Pass this environment to the processes.")
    var preserveEnv = false

    @Option(help: "When checkpoint records reach the disk: always (fsync each), group (one fdatasync per event batch), none.")
    var fsync: SyncPolicy = .group

    @Option(name: [.customLong("process-logger-destination"), .customLong("process_logger_destination")], help: "file, console, both or none (processes without a logger).")
    var processLoggerDestination: LoggerDestination?

    @Option(name: [.customLong("process-logger-mode"), .customLong("process_logger_mode")], help: "standard or rotate (processes without a logger).")
    var processLoggerMode: LoggerMode?

    @Option(name: [.customLong("rotate-log-size-mb"), .customLong("rotate_log_size_mb")], help: "Rotate logs at this size, MiB.")
    var rotateLogSizeMB: Int?

    @Option(name: [.customLong("rotate-log-backups"), .customLong("rotate_log_backups")], help: "Rotated files to keep.")
    var rotateLogBackups: Int?

    @Option(name: [.customLong("preemption-wait"), .customLong("preemption_wait")], help: "Seconds a staged kill (SIGINT/SIGTERM/SIGUSR1) waits before SIGKILL.")
    var preemptionWait: Double = 60

    @Option(name: [.customLong("log-level"), .customLong("log_level")], help: "The runner's own log: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func apply(to configuration: inout RunnerConfiguration) {
        configuration.chroot = enableChroot
        configuration.preserveEnvironment = preserveEnv
        configuration.loggerDestination = processLoggerDestination
        configuration.loggerMode = processLoggerMode
        configuration.rotateLogSizeMB = rotateLogSizeMB
        configuration.rotateLogBackups = rotateLogBackups
        configuration.fsync = fsync
        configuration.preemptionWait = preemptionWait
    }
}

extension SyncPolicy: ExpressibleByArgument {}
extension LoggerDestination: ExpressibleByArgument {}
extension LoggerMode: ExpressibleByArgument {}

/// `thermos run`: run a task from a config file on this machine.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a thermos task.",
        discussion: """
            Exit status: 0 SUCCESS, 1 FAILED, 3 KILLED, 4 LOST, 2 invalid input (config, flags, \
            ports, user), 5 runner error (task locked by a live runner, unreadable checkpoint). \
            SIGINT/SIGTERM kill the task in stages (a second one kills at once). Running a \
            finished task id again does nothing and exits with its recorded state.
            """
    )

    @OptionGroup var flags: RunnerFlags

    @Option(help: "The task to run when the file holds several.")
    var task: String?

    @Flag(help: "Accepted for compatibility: the format is chosen by the file extension.")
    var json = false

    @Option(help: ArgumentHelp("The job of an .aurora file: CLUSTER/ROLE/ENV/NAME, or NAME when unique.", valueName: "key"))
    var job: String?

    @Option(help: "The instance number bound as {{mesos.instance}}.")
    var instance: Int = 0

    @Flag(help: "Print every process's output live, prefixed with its name (see `thermos logs`).")
    var console = false

    @Argument(help: "A task config (.json, .yaml, .yml) or a Python DSL config (.thermos, .aurora).")
    var config: String

    func run() throws {
        let launch = TaskLaunch(ports: try bindingFreePorts(parsePorts(flags.ports)), launchTime: wallClock())
        let account: RunAccount
        let launched: LaunchedTask
        do {
            let template = try UserConfig(
                path: config, task: task, job: job, bindings: flags.bindings, mesos: (instance, hostName())
            ).load()
            try launch.check(template)
            account = try RunAccount.resolve(flags.user)
            launched = try launch.evaluate(template, user: account.name, taskID: flags.taskID)
        } catch let error as ConfigError {
            throw fail(error.description, code: RunExit.invalidInput)
        } catch let error as LaunchError {
            if error.code == .unboundPorts {
                throw fail(
                    "ERROR!  Unbound ports: \(error.missingPorts.joined(separator: " ")) (bind each with -P name:port)",
                    code: RunExit.invalidInput)
            }
            throw fail(error.message, code: RunExit.invalidInput)
        } catch let error as RunnerError {
            throw fail(error.message, code: RunExit.invalidInput)
        }
        let sandbox = flags.sandbox.map(absolutePath) ?? DefaultRoot.sandbox(taskID: launched.taskID)
        var configuration = flags.configuration(launched, launch: launch, account: account, sandbox: sandbox)
        configuration.console = console
        try flags.execute(configuration, relaunch: Array(CommandLine.arguments.dropFirst()))
    }
}
