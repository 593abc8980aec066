import CThermosSys
import Glibc
public import OrderedCollections
public import ThermosCheckpoint

/// Builds Thermos roots for tests: task files, runner checkpoints written with our
/// `CheckpointWriter`, sandboxes and logs. Fixture tasks are copied record by record (the
/// fixture itself is only read).
public struct TaskRootBuilder: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// One process of a synthesized task: its name, final state, return code and pid.
    public struct ProcessSpec: Sendable {
        public var name: String
        public var state: ProcessState
        public var returnCode: Int32?
        public var pid: Int32

        public init(_ name: String, _ state: ProcessState, returnCode: Int32? = nil, pid: Int32 = 4242) {
            self.name = name
            self.state = state
            self.returnCode = returnCode
            self.pid = pid
        }
    }

    /// The records the runner writes for a task whose processes reach the given states
    /// (RUNNING processes stop there), ending with `finalState` if given.
    public static func records(
        taskID: String, sandbox: String, logDir: String, user: String = "root", launchMs: Int64 = 1_700_000_000_000,
        ports: OrderedDictionary<String, Int64> = [:], processes: [ProcessSpec], finalState: TaskState?
    ) -> [RunnerCkpt] {
        var records: [RunnerCkpt] = [
            .taskStatus(TaskStatus(state: .active, timestampMs: launchMs, runnerPid: 100, runnerUid: 0)),
            .runnerHeader(RunnerHeader(
                taskID: taskID, launchTimeMs: launchMs, sandbox: sandbox, hostname: "localhost", user: user,
                ports: ports, logDir: logDir, uid: 0)),
        ]
        let start = Double(launchMs) / 1000
        for (index, process) in processes.enumerated() {
            let at = start + Double(index)
            records.append(.processStatus(ProcessStatus(seq: 0, process: process.name, state: .waiting)))
            records.append(.processStatus(ProcessStatus(seq: 1, process: process.name, state: .forked, coordinatorPid: process.pid - 1, forkTime: at)))
            records.append(.processStatus(ProcessStatus(seq: 2, process: process.name, state: .running, startTime: at + 0.1, pid: process.pid)))
            if process.state.isTerminal {
                records.append(.processStatus(ProcessStatus(
                    seq: 3, process: process.name, state: process.state, stopTime: at + 0.5, returnCode: process.returnCode)))
            }
        }
        if let finalState {
            records.append(.taskStatus(TaskStatus(state: finalState, timestampMs: launchMs + 5000, runnerPid: 100, runnerUid: 0)))
        }
        return records
    }

    /// Writes `tasks/<directory>/<taskID>` (the task JSON) and `checkpoints/<taskID>/runner`.
    @discardableResult
    public func addTask(
        _ taskID: String, directory: TaskPath.TaskDirectory, records: [RunnerCkpt], taskJSON: String
    ) throws -> String {
        makeDirectories(root + "/tasks/" + directory.rawValue)
        makeDirectories(TaskPath.checkpointDirectory(root: root, taskID: taskID))
        let taskFile = TaskPath.taskFile(root: root, taskID: taskID, state: directory)
        writeFile(taskFile, Array(taskJSON.utf8))
        let writer = try CheckpointWriter(path: TaskPath.runnerCheckpoint(root: root, taskID: taskID), policy: .none)
        try writer.append(contentsOf: records)
        try writer.close()
        return taskFile
    }

    /// A simple task with a sandbox and per-process logs under `<root>/sandbox/<taskID>`.
    @discardableResult
    public func addSimpleTask(
        _ taskID: String, directory: TaskPath.TaskDirectory, processes: [ProcessSpec], finalState: TaskState?,
        ports: OrderedDictionary<String, Int64> = [:], sandboxBytes: Int = 0
    ) throws -> (sandbox: String, logDir: String) {
        let sandbox = root + "/sandbox/" + taskID
        let logDir = sandbox + "/.logs"
        makeDirectories(sandbox)
        if sandboxBytes > 0 { writeFile(sandbox + "/data.bin", [UInt8](repeating: 7, count: sandboxBytes)) }
        for process in processes {
            makeDirectories("\(logDir)/\(process.name)/0")
            writeFile("\(logDir)/\(process.name)/0/stdout", Array("hello from \(process.name)\n".utf8))
            writeFile("\(logDir)/\(process.name)/0/stderr", [])
        }
        let names = processes.map { "{\"name\": \"\($0.name)\", \"cmdline\": \"echo \($0.name)\"}" }.joined(separator: ", ")
        let json = "{\"name\": \"\(taskID)\", \"processes\": [\(names)], \"user\": \"{{thermos.user}}\"}"
        try addTask(
            taskID, directory: directory,
            records: Self.records(taskID: taskID, sandbox: sandbox, logDir: logDir, ports: ports, processes: processes, finalState: finalState),
            taskJSON: json)
        return (sandbox, logDir)
    }

    /// Copies a task of a fixture root: its task file text and its runner records (re-written
    /// with `CheckpointWriter`), under `newID`'s name if given (the header keeps its task id).
    public func copyFixtureTask(_ taskID: String, from fixtureRoot: String, directory: TaskPath.TaskDirectory, as newID: String? = nil) throws {
        let stream = try CheckpointReader.read(path: TaskPath.runnerCheckpoint(root: fixtureRoot, taskID: taskID))
        let source = TaskPath.taskFile(root: fixtureRoot, taskID: taskID, state: directory)
        let json = String(decoding: readBytes(source) ?? Array("{}".utf8), as: UTF8.self)
        try addTask(newID ?? taskID, directory: directory, records: stream.records, taskJSON: json)
    }

    /// Sets the access and modification time of `path` (seconds since the epoch).
    public static func setMtime(_ path: String, _ seconds: Double) {
        let time = timespec(tv_sec: Int(seconds), tv_nsec: 0)
        var times = [time, time]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    /// `mkdir -p`.
    public func makeDirectories(_ path: String) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            _ = mkdir(current, 0o755)
        }
    }

    /// Writes (replacing) a file.
    public func writeFile(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot create \(path): errno \(errno)")
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
