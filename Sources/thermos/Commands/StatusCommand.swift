import ArgumentParser
import OrderedCollections
import ThermosCheckpoint
import ThermosMonitor

/// `thermos status`: list the tasks of one or more roots.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Get the status of task(s).",
        discussion: """
            Patterns are regular expressions matched at the start of the task id (like Python's \
            re.match). Exits 1 with "No tasks found." when nothing matches.
            """
    )

    enum Only: String, ExpressibleByArgument, CaseIterable {
        case active, finished
    }

    @OptionGroup var rootOptions: RootOptions

    @Option(help: "0: ids; 1: + state and start; 2: + user, ports, sandbox; 3: + process table.")
    var verbosity = 0

    @Option(help: "Only list active or finished tasks.")
    var only: Only?

    @Flag(help: "Print JSON: every matching task with its replayed state.")
    var json = false

    @Argument(help: ArgumentHelp("Task ids or regular expressions (default: all).", valueName: "pattern"))
    var patterns: [String] = []

    func run() throws {
        let matchers: [Regex<AnyRegexOutput>]
        do {
            matchers = try patterns.map { try Regex($0) }
        } catch {
            throw fail("Invalid task pattern: \(error)", code: 2)
        }
        func matches(_ taskID: String) -> Bool {
            matchers.isEmpty || matchers.contains { taskID.prefixMatch(of: $0) != nil }
        }
        let directory = only.map { $0 == .active ? TaskPath.TaskDirectory.active : .finished }
        var lines: [String] = []
        var reports: [TaskReport] = []
        for root in rootOptions.roots {
            let entries = TaskDetector(root: root).taskIDs(in: directory).filter { matches($0.taskID) }
            for section in TaskPath.TaskDirectory.allCases {
                let tasks = entries.filter { $0.directory == section }
                guard !tasks.isEmpty else { continue }
                lines.append(section == .active ? "Active tasks:" : "Finished tasks:")
                for task in tasks {
                    let runner = section == .active ? RunnerNote.isRunnerRunning(root: root, taskID: task.taskID) : nil
                    if json {
                        reports.append(report(root: root, taskID: task.taskID))
                        reports[reports.count - 1].runner_running = runner
                    } else {
                        lines.append(contentsOf: describe(root: root, taskID: task.taskID))
                        if runner == false { lines.append("    \(RunnerNote.notRunning)") }
                    }
                }
                lines.append("")
            }
        }
        if json {
            print(try jsonString(reports))
            if reports.isEmpty { throw ExitCode(1) }
            return
        }
        guard !lines.isEmpty else { throw fail("No tasks found.") }
        print(lines.joined(separator: "\n"))
    }

    func report(root: String, taskID: String) -> TaskReport {
        let path = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        do {
            let (state, stream) = try RunnerState.replaying(path: path)
            var report = TaskReport(state: state, taskID: taskID, root: root, owner: ownerName(of: path))
            let stopped = StoppedProcesses.replaying(stream.entries.map(\.record))
            for index in report.processes.indices where stopped.contains(report.processes[index].name) {
                report.processes[index].stopped = true
            }
            if let probes = ProbeStatusDocument.load(root: root, taskID: taskID) {
                for index in report.processes.indices {
                    let entry = probes.processes[report.processes[index].name]
                    report.processes[index].ready = entry?.ready
                    report.processes[index].probes = entry
                }
                report.health = probes.health
            }
            return report
        } catch {
            var report = TaskReport(state: RunnerState(), taskID: taskID, root: root, owner: ownerName(of: path))
            report.error = error.description
            return report
        }
    }

    /// The original's status lines for one task (reference §3.4).
    func describe(root: String, taskID: String) -> [String] {
        let path = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        let first = "  \(taskID.padded(to: 20, left: true)) [owner: \(ownerName(of: path).padded(to: 8))]"
        guard verbosity > 0 else { return [first] }
        guard let (state, stream) = try? RunnerState.replaying(path: path), let header = state.header else {
            return [first + " - checkpoint stream CORRUPT or outdated format"]
        }
        let taskState = state.taskState?.name ?? "None"
        let start = header.launchTimeMs.map { TimeFormat.asctime(milliseconds: $0) } ?? "None"
        var lines = [first + "  state: \(taskState.padded(to: 8)) start: \(start.padded(to: 25))"]
        let stopped = StoppedProcesses.replaying(stream.entries.map(\.record))
        for name in state.processes.keys where stopped.contains(name) {
            lines.append("    \(name): stopped by thermos stop (`thermos start \(taskID) \(name)` runs it again)")
        }
        if let probes = ProbeStatusDocument.load(root: root, taskID: taskID) {
            for name in state.processes.keys {
                if let summary = probes.summary(of: name) { lines.append("    \(name): \(summary)") }
            }
            if let health = probes.health { lines.append("    task: \(ProbeStatusDocument.describe("health check", health))") }
        }
        if verbosity >= 2 {
            let ports = header.ports.flatMap { $0.isEmpty ? nil : CheckpointFormat.ports(header, separator: " -> ") } ?? "None"
            lines.append("    user: \(header.user ?? "None") ports: \(ports)")
            lines.append("    sandbox: \(header.sandbox ?? "None")")
        }
        if verbosity >= 3 {
            lines.append("    process table:")
            for (name, runs) in state.processes {
                let last = runs.last.map(CheckpointFormat.run) ?? "None"
                lines.append("      - \(name) runs: \(runs.count) last: \(last)\(stopped.contains(name) ? " (stopped)" : "")")
            }
            lines.append("")
        }
        return lines
    }
}
