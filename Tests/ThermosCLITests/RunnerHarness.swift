import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosTestSupport
import ThermosPlatform

/// A temporary checkpoint root and sandbox for one runner scenario, with helpers to run
/// `thermos` on it and read back what the runner recorded.
struct RunnerFixture {
    let directory = TemporaryDirectory(prefix: "thermos-run")
    var root: String { directory.path + "/root" }
    var sandbox: String { directory.path + "/sandbox" }

    /// Writes a config file and returns its path.
    func config(_ text: String, name: String = "task.json") -> String {
        directory.write(name, text)
    }

    /// `thermos run` in the foreground.
    func run(_ config: String, taskID: String, _ extra: [String] = [], environment: [String: String] = [:]) -> CommandResult {
        thermos(["run", "--root", root, "--sandbox", sandbox, "--task-id", taskID] + extra + [config], environment: environment)
    }

    /// `thermos run` in the background.
    func start(_ config: String, taskID: String, _ extra: [String] = [], environment: [String: String] = [:]) -> BackgroundCommand {
        BackgroundCommand(
            [TestPaths.builtBinary("thermos"), "run", "--root", root, "--sandbox", sandbox, "--task-id", taskID] + extra + [config],
            environment: ["TZ": "UTC"].merging(environment) { $1 }, outputPrefix: directory.path + "/runner-\(taskID)-\(Int.random(in: 0...999999))")
    }

    var runnerCheckpointDirectory: String { root + "/checkpoints" }

    /// Every record of the runner stream (empty if unreadable).
    func records(_ taskID: String) -> [RunnerCkpt] {
        (try? CheckpointReader.read(path: TaskPath.runnerCheckpoint(root: root, taskID: taskID)))?.records ?? []
    }

    /// The replayed state of the task (empty if unreadable).
    func state(_ taskID: String) -> RunnerState {
        (try? RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: root, taskID: taskID)).state) ?? RunnerState()
    }

    /// Task states in stream order.
    func taskStates(_ taskID: String) -> [TaskState] {
        records(taskID).compactMap { if case .taskStatus(let status) = $0 { status.state } else { nil } }
    }

    /// `(seq, state)` of every record of `process` in the runner stream.
    func processRecords(_ taskID: String, _ process: String) -> [String] {
        records(taskID).compactMap { record in
            guard case .processStatus(let status) = record, status.process == process else { return nil }
            return "\(status.seq ?? -1) \(status.state?.name ?? "?")"
        }
    }

    /// The runs of `process` after replay.
    func runs(_ taskID: String, _ process: String) -> [ProcessStatus] {
        state(taskID).processes[process] ?? []
    }

    /// Waits until the last run of `process` is RUNNING (with its pids) and returns it.
    func waitForRunning(_ taskID: String, _ process: String, run: Int = 0, timeout: Double = 20) -> ProcessStatus? {
        var found: ProcessStatus?
        _ = eventually(timeout: timeout) {
            let runs = self.runs(taskID, process)
            guard runs.count > run, runs[run].state == .running else { return false }
            found = runs[run]
            return true
        }
        return found
    }

    func taskFileExists(_ taskID: String, _ state: TaskPath.TaskDirectory) -> Bool {
        access(TaskPath.taskFile(root: root, taskID: taskID, state: state), F_OK) == 0
    }

    func read(_ relative: String) -> String? {
        readBytes(sandbox + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func remove() { directory.remove() }
}

/// True if a process with this pid exists (zombies count as gone).
func isAlive(_ pid: Int32) -> Bool {
    ProcessTable.isAlive(pid)
}
