import OrderedCollections
import ArgumentParser
import Glibc
import Logging
import ThermosCheckpoint
import ThermosControl
import ThermosConfig
import ThermosConfigLoading
import ThermosRuntime

/// `thermos kill`: kill active tasks (by id or regular expression) and everything they started.
struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Kill task(s)",
        discussion: """
            By default a staged kill by the task's live runner: CLEANING (SIGTERM to the processes), \
            FINALIZING (the final processes run), KILLED; --preemption-wait bounds the whole kill, \
            then what is left is SIGKILLed. With --now, or when no runner is alive: SIGKILL the \
            runner and every process tree at once, record KILLED (rc -9) or LOST per unfinished \
            process, and KILLED for the task (like the original's `thermos kill`).
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Flag(help: "Kill at once: SIGKILL the runner and every process; final processes do not run.")
    var now = false

    @Flag(help: .hidden)
    var graceful = false

    @Option(name: [.customLong("preemption-wait")], help: "Seconds a staged kill may take before what is left is SIGKILLed.")
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
                if !now {
                    try stagedKill(root: root, taskID: taskID, platform: platform)
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

    /// Asks the live runner for a staged kill bounded by `--preemption-wait` (over its control
    /// socket; SIGTERM, bounded by the runner's own wait, when the socket does not answer) and
    /// waits for the task to finish. With no live runner: the immediate kill (`KillPolicy`).
    private func stagedKill(root: String, taskID: String, platform: LinuxRunnerPlatform) throws(RunnerError) {
        guard let pid = TaskKiller.liveRunner(taskID: taskID, root: root) else {
            try TaskKiller.kill(taskID: taskID, root: root, platform: platform, logger: Logger(label: "kill"))
            return
        }
        do {
            _ = try TaskControl.send(.kill(preemptionWait: preemptionWait), root: root, taskID: taskID)
        } catch where error.code == .permissionDenied {
            throw RunnerError(.locked, error.message)
        } catch {
            Glibc.kill(pid, SIGTERM)
        }
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
    }
}
