import ArgumentParser
import OrderedCollections
import ThermosCheckpoint

/// `thermos read`: replay a checkpoint stream and show what it holds.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Replay a thermos checkpoint.",
        discussion: """
            Prints the recovered header, task states and process runs (newest first). FAILED runs \
            show their return code. With --simple, prints every record as stored.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Flag(help: "Print each record as stored instead of the replayed state.")
    var simple = false

    @Flag(help: "Print JSON (with --simple: one object per record).")
    var json = false

    @Argument(help: ArgumentHelp("A runner checkpoint file, or a task id looked up in the roots.", valueName: "checkpoint|task_id"))
    var target: String

    func run() throws {
        let path = try resolve()
        let stream: CheckpointStream
        do {
            stream = try CheckpointReader.read(path: path)
        } catch {
            throw fail("Failed to recover from \(path): \(error.description)")
        }
        if let warning = stream.tailWarning { printError("warning: \(warning)") }
        if simple {
            for record in stream.records {
                print(json ? try jsonString(SimpleRecord(record), pretty: false) : "CKPT: \(CheckpointFormat.simple(record))")
            }
            return
        }
        let state: RunnerState
        do {
            state = try RunnerState.replaying(stream)
        } catch {
            throw fail("Failed to recover from \(path): \(error.description)")
        }
        if json {
            print(try jsonString(TaskReport(state: state, taskID: nil)))
            return
        }
        guard let header = state.header else {
            throw fail("Checkpoint stream CORRUPT or outdated format")
        }
        print(Self.render(state, header: header))
    }

    /// The checkpoint path: the argument if it is a file, else the task's runner stream in the first root that has one.
    func resolve() throws -> String {
        if isRegularFile(target) { return target }
        for root in rootOptions.roots {
            let path = TaskPath.runnerCheckpoint(root: root, taskID: target)
            if isRegularFile(path) { return path }
        }
        throw fail("Could not find \(target): not a checkpoint file, and no task with that id in \(rootOptions.roots.joined(separator: ", "))", code: 2)
    }

    /// The original's `thermos read` layout (reference §3.7).
    static func render(_ state: RunnerState, header: RunnerHeader) -> String {
        var lines = [
            "Recovered Task Header:",
            "  id:      \(header.taskID ?? "None")",
            "  user:    \(header.user ?? "None")",
            "  host:    \(header.hostname ?? "None")",
            "  sandbox: \(header.sandbox ?? "None")",
        ]
        if let ports = header.ports, !ports.isEmpty {
            lines.append("  ports:   \(CheckpointFormat.ports(header, separator: "->"))")
        }
        lines.append("Recovered Task States:")
        for status in state.statuses {
            let time = status.timestampMs.map { TimeFormat.asctime(milliseconds: $0) } ?? "None"
            lines.append("  \(time) [pid: \(status.runnerPid.map(String.init) ?? "None")] => \(status.state?.name ?? "None")")
        }
        lines.append("Recovered Processes:")
        for (name, runs) in state.processes {
            lines.append("  \(name)   runs: \(runs.count)")
            for (index, run) in runs.enumerated().reversed() {
                lines.append("    \(String(index).padded(to: 2)): \(CheckpointFormat.run(run))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// One record as JSON, in the shape of `read_checkpoint.py` (union member name → fields).
struct SimpleRecord: Encodable {
    let record: RunnerCkpt

    init(_ record: RunnerCkpt) {
        self.record = record
    }

    private struct Header: Encodable {
        var task_id: String?, launch_time_ms: Int64?, sandbox: String?, hostname: String?, user: String?
        var ports: [String: Int64]?, log_dir: String?, uid: Int32?
    }

    private struct Process: Encodable {
        var seq: Int64?, process: String?, state: Int32?, start_time: Double?, pid: Int32?, stop_time: Double?
        var return_code: Int32?, coordinator_pid: Int32?, fork_time: Double?
    }

    private struct Task: Encodable {
        var state: Int32?, timestamp_ms: Int64?, runner_pid: Int32?, runner_uid: Int32?
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch record {
        case .runnerHeader(let h):
            let ports = h.ports.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) }
            try container.encode(["runner_header": Header(
                task_id: h.taskID, launch_time_ms: h.launchTimeMs, sandbox: h.sandbox, hostname: h.hostname,
                user: h.user, ports: ports, log_dir: h.logDir, uid: h.uid)])
        case .processStatus(let s):
            try container.encode(["process_status": Process(
                seq: s.seq, process: s.process, state: s.state?.rawValue, start_time: s.startTime, pid: s.pid,
                stop_time: s.stopTime, return_code: s.returnCode, coordinator_pid: s.coordinatorPid, fork_time: s.forkTime)])
        case .taskStatus(let s):
            try container.encode(["task_status": Task(
                state: s.state?.rawValue, timestamp_ms: s.timestampMs, runner_pid: s.runnerPid, runner_uid: s.runnerUid)])
        }
    }
}
