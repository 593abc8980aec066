import ArgumentParser
import Glibc
import ThermosCheckpoint
import ThermosConfig
import ThermosConfigLoading
import ThermosPlanner
import ThermosRuntime

/// `thermos runner`: the executor-facing runner (`thermos_runner`, reference §3.12), with its
/// flags and exit statuses: 0 done (or already terminal), 101 internal error / unbound port,
/// 102 invalid task, 103 unknown error, 104 unknown user, 105 terminal task.
struct RunnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "Run a task for an executor (thermos_runner).",
        discussion: "SIGUSR1 (or SIGTERM/SIGINT) kills the task in stages, SIGUSR2 loses it; the runner then exits 0."
    )

    @Option(name: [.customLong("thermos-json"), .customLong("thermos_json")], help: "The task as Aurora task JSON.")
    var thermosJSON: String

    @Option(help: "The sandbox on the host.")
    var sandbox: String

    @Option(name: [.customLong("checkpoint-root"), .customLong("checkpoint_root")], help: "The checkpoint root.")
    var checkpointRoot: String

    @Option(name: [.customLong("task-id"), .customLong("task_id")], help: "The task id (default <name>-<time>).")
    var taskID: String?

    @Option(help: "Run the processes as this user (requires root).")
    var setuid: String?

    @Option(name: [.customLong("port")], help: ArgumentHelp("Bind a named port (repeatable).", valueName: "name:port"))
    var ports: [String] = []

    @Option(help: "Host name written into the header.")
    var hostname: String?

    @Option(name: [.customLong("container-sandbox"), .customLong("container_sandbox")], help: "Not supported (Mesos filesystem images).")
    var containerSandbox: String?

    @Option(name: [.customLong("mesos-containerizer-path"), .customLong("mesos_containerizer_path")], help: "Not supported (Mesos filesystem images).")
    var mesosContainerizerPath: String?

    @Option(name: [.customLong("log-dir"), .customLong("log_dir")], help: "Directory for the runner's own log (thermos_runner.log).")
    var runnerLogDir: String?

    @OptionGroup var processOptions: ProcessOptions


    func run() throws {
        if mesosContainerizerPath != nil || containerSandbox != nil {
            throw fail("--mesos-containerizer-path/--container-sandbox (Mesos filesystem images) are not supported by this runner", code: 101)
        }
        let launch: TaskLaunch
        do {
            launch = TaskLaunch(ports: try TaskLaunch.parsePorts(ports), launchTime: wallClock())
        } catch {
            throw fail(error.message, code: 101)
        }
        let account: RunAccount
        do {
            account = try RunAccount.resolve(setuid)
        } catch {
            throw fail(error.message, code: error.code == .unknownUser ? 104 : 102)
        }
        let launched: LaunchedTask
        do {
            let template = try ConfigLoader.selectTask(ConfigLoader.loadTemplates(path: thermosJSON), named: nil)
            try launch.check(template)
            launched = try launch.evaluate(template, user: account.name, taskID: taskID)
        } catch let error as ConfigError {
            throw fail(error.description, code: 102)
        } catch let error as LaunchError {
            throw fail(error.message, code: error.code == .unboundPorts ? 101 : 102)
        }
        var configuration = launch.configuration(
            launched, root: absolutePath(checkpointRoot), sandbox: absolutePath(sandbox), user: account.name, uid: account.uid,
            hostname: hostname ?? hostName(), totalRunLimit: TaskPlanner.runnerRunLimit)
        processOptions.apply(to: &configuration)
        if let runnerLogDir { redirectLog(to: runnerLogDir) }
        do {
            try RunnerExec.exec(configuration, force: false, logLevel: processOptions.logLevel, exitCodes: .executor)
        } catch {
            throw fail(error.message, code: error.runnerExitStatus)
        }
    }

    /// Sends the runner's own log (stderr) to `<dir>/thermos_runner.log`.
    private func redirectLog(to directory: String) {
        _ = try? TaskFiles.makeDirectories(directory)
        let fd = open(directory + "/thermos_runner.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        printError("Writing log files to disk in \(directory)")
        dup2(fd, 2)
        close(fd)
    }
}
