import ArgumentParser
import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosConfigLoading
import ThermosPlatform
import ThermosRuntime

/// `thermos logs`: the latest runs' output of a task's processes, prefixed with their names.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the output of a task's processes, prefixed with their names.",
        discussion: """
            Prints the latest run's stdout and stderr of each process (all of them, or those \
            named), each line prefixed with the process name (`web    | line`; stderr lines \
            `web    ! line`), coloured on a terminal unless NO_COLOR is set. With -f it keeps \
            following (new runs of a process too) until the task is terminal.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Flag(name: [.short, .long], help: "Follow the output until the task ends.")
    var follow = false

    @Option(name: [.customShort("n"), .customLong("lines")], help: "Start at the last N lines of each stream (default: all).")
    var lines: Int?

    @Argument(help: "The task id.")
    var taskID: String

    @Argument(help: ArgumentHelp("Processes to show (default: all).", valueName: "process"))
    var processes: [String] = []

    func validate() throws {
        if let lines, lines < 0 { throw ValidationError("--lines must be 0 or more, got \(lines)") }
    }

    func run() throws {
        guard let (root, state) = locateTask() else {
            throw fail("ERROR: Could not find task \(taskID) in \(rootOptions.roots.joined(separator: ", ")).", code: 1)
        }
        var known = Self.taskProcesses(root: root, taskID: taskID)
        known += state.processes.keys.filter { !known.contains($0) }
        if let unknown = processes.first(where: { !known.contains($0) }) {
            throw fail("No process \(unknown) in task \(taskID) (processes: \(known.joined(separator: ", ")))", code: 2)
        }
        let names = processes.isEmpty ? known : processes
        let logBase = TaskPath.logBase(root: root, taskID: taskID, header: state.header)
        let follower: LogFollower
        do {
            follower = try LogFollower(
                logDirectory: logBase, anchor: state.header?.sandbox, processes: names,
                options: LogFollower.Options(startAtLastLines: lines)
            ) { printError("thermos logs: \($0)") }
        } catch {
            throw fail("Cannot read the logs of \(taskID): \(error)", code: 1)
        }
        var printer = LogLinePrinter(processes: names, colour: LogLinePrinter.wantsColour())
        flushStandardOutput()
        let checkpoint = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        var terminal = state.taskState?.isTerminal ?? false
        guard follow, !terminal else {
            follower.finish { printer.print($0) }
            printer.flush()
            return
        }
        // The checkpoint is watched before its state is read again, so its last record cannot
        // slip in between the check and the wait.
        let watch = try? Inotify()
        _ = try? watch?.watch(checkpoint, for: .modified)
        var tailer = CheckpointTailer(path: checkpoint)
        var fds = [pollfd(fd: follower.descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: watch?.descriptor ?? -1, events: Int16(POLLIN), revents: 0)]
        while true {
            follower.update { printer.print($0) }
            printer.flush()
            watch?.drain()
            for record in (try? tailer.poll()) ?? [] {
                if case .taskStatus(let status) = record, let state = status.state { terminal = state.isTerminal }
            }
            if terminal || printer.isClosed { break }
            if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { break }
        }
        follower.finish { printer.print($0) }
        printer.flush()
    }

    /// The process names of the task file, in task order (empty if it cannot be read).
    static func taskProcesses(root: String, taskID: String) -> [String] {
        for directory in TaskPath.TaskDirectory.allCases {
            let path = TaskPath.taskFile(root: root, taskID: taskID, state: directory)
            guard isRegularFile(path) else { continue }
            if let task = try? ConfigLoader.loadTemplates(path: path).first?.evaluate(context: nil, allowUnbound: true) {
                return task.processes.map(\.name)
            }
        }
        return []
    }

    private func locateTask() -> (String, RunnerState)? {
        for root in rootOptions.roots {
            if let state = try? RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: root, taskID: taskID)).state {
                return (root, state)
            }
        }
        return nil
    }
}
