import OrderedCollections
import ArgumentParser
import Glibc
import Logging
import ThermosCheckpoint
import ThermosConfig
import ThermosConfigLoading
import ThermosRuntime

/// `thermos kill`: kill active tasks (by id or regular expression) and everything they started.
struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Kill task(s)",
        discussion: """
            Without --graceful: SIGKILL the runner and every process tree at once, record KILLED \
            (rc -9) or LOST per unfinished process, and KILLED for the task (like the original). \
            With --graceful: a staged kill (SIGTERM, finalizers, SIGKILL after --preemption-wait) \
            by the live runner, or by this command when the runner is gone.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Flag(help: "Kill in stages: SIGTERM, run finalizers, SIGKILL what is left after the preemption wait.")
    var graceful = false

    @Option(name: [.customLong("preemption-wait")], help: "Seconds a graceful kill waits before SIGKILL.")
    var preemptionWait: Double = 60

    @Argument(help: ArgumentHelp("Task ids or regular expressions matched at the start of the id.", valueName: "task"))
    var patterns: [String] = []

    func run() throws {
        guard !patterns.isEmpty else { throw fail("Must specify tasks!", code: 2) }
        let matchers: [Regex<AnyRegexOutput>]
        do {
            matchers = try patterns.map { try Regex($0) }
        } catch {
            throw fail("Invalid task pattern: \(error)", code: 2)
        }
        var targets: [(root: String, taskID: String)] = []
        for root in rootOptions.roots {
            for entry in TaskDetector(root: root).taskIDs(in: .active)
            where matchers.contains(where: { entry.taskID.prefixMatch(of: $0) != nil }) {
                targets.append((root, entry.taskID))
            }
        }
        guard !targets.isEmpty else { throw fail("No active tasks matched.", code: 1) }
        let platform: LinuxRunnerPlatform
        do {
            platform = try LinuxRunnerPlatform()
        } catch {
            throw fail(error.message, code: 1)
        }
        var failures = 0
        for (root, taskID) in targets {
            print("Killing \(taskID)...", terminator: "")
            flushStandardOutput()
            do {
                if graceful {
                    try gracefulKill(root: root, taskID: taskID, platform: platform)
                } else {
                    try TaskKiller.kill(taskID: taskID, root: root, platform: platform, logger: Logger(label: "kill"))
                }
                print("done.")
            } catch {
                print("failed.")
                printError("\(taskID): \(error.message)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// Asks the live runner for a staged kill (SIGUSR1) and waits for the task to finish; with no
    /// live runner, runs the staged kill here from the task's recorded configuration.
    private func gracefulKill(root: String, taskID: String, platform: LinuxRunnerPlatform) throws(RunnerError) {
        if let pid = TaskKiller.liveRunner(taskID: taskID, root: root) {
            Glibc.kill(pid, SIGUSR1)
            let finished = TaskPath.taskFile(root: root, taskID: taskID, state: .finished)
            let watch = FileWatch()
            try TaskFiles.makeDirectories(root + "/tasks/finished")
            watch.watch(root + "/tasks/finished")
            let deadline = wallClock() + preemptionWait + 30
            while wallClock() < deadline {
                if access(finished, F_OK) == 0 { return }
                watch.wait(timeout: min(1, deadline - wallClock()))
            }
            printError("\(taskID): the runner did not finish the staged kill in time; killing at once.")
            try TaskKiller.kill(taskID: taskID, root: root, platform: platform, logger: Logger(label: "kill"))
            return
        }
        let configuration = try recordedConfiguration(root: root, taskID: taskID)
        let runner = try TaskRunner(configuration: configuration, platform: platform, logger: Logger(label: "runner"))
        try runner.kill(force: true, terminal: .killed, wait: preemptionWait)
    }

    /// The runner configuration of an active task, from `tasks/active/<id>` and its header
    /// (the original's `TaskRunner.get`).
    private func recordedConfiguration(root: String, taskID: String) throws(RunnerError) -> RunnerConfiguration {
        let path = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        guard let header = (try? RunnerState.replaying(path: path))?.state.header, let sandbox = header.sandbox,
            let user = header.user
        else { throw RunnerError(.checkpoint, "\(path): no runner header; cannot rebuild the task") }
        let taskFile = TaskPath.taskFile(root: root, taskID: taskID, state: .active)
        let task: TaskConfig
        do {
            task = try ConfigLoader.loadTemplates(path: taskFile)[0].evaluate(context: nil, allowUnbound: true)
        } catch {
            throw RunnerError(.invalidTask, "\(taskFile): \(error)")
        }
        var ports: [String: Int] = [:]
        for (name, port) in header.ports ?? [:] { ports[name] = Int(port) }
        return RunnerConfiguration(
            task: task, taskID: taskID, root: root, sandbox: sandbox, logDir: header.logDir, user: user, uid: header.uid,
            hostname: header.hostname ?? hostName(), ports: ports,
            launchTime: Double(header.launchTimeMs ?? 0) / 1000)
    }
}
