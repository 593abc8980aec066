import Foundation
import OrderedCollections
import ThermosCheckpoint
import ThermosMonitor

/// JSON shapes printed by `--json` (snake_case keys like the checkpoint schema).
struct RunReport: Codable, Equatable {
    var run: Int
    var seq: Int64?
    var state: String
    var pid: Int32?
    var coordinator_pid: Int32?
    var fork_time: Double?
    var start_time: Double?
    var stop_time: Double?
    var return_code: Int32?

    init(run: Int, _ status: ProcessStatus) {
        self.run = run
        seq = status.seq
        state = status.state?.name ?? "None"
        pid = status.pid
        coordinator_pid = status.coordinatorPid
        fork_time = status.forkTime
        start_time = status.startTime
        stop_time = status.stopTime
        return_code = status.returnCode
    }
}

/// A replayed task for `read --json` and `status --json`.
struct TaskReport: Codable, Equatable {
    struct Status: Codable, Equatable {
        var state: String
        var timestamp_ms: Int64?
        var runner_pid: Int32?
        var runner_uid: Int32?
    }

    struct Process: Codable, Equatable {
        var name: String
        var runs: [RunReport]
        /// Our extension: readiness (processes with a readiness probe) and the last probe results.
        var ready: Bool?
        var probes: ProbeStatusDocument.Process?
        /// Our extension: true while the process is kept down by `thermos stop`.
        var stopped: Bool?
    }

    var task_id: String?
    var root: String?
    var owner: String?
    var state: String?
    var user: String?
    var hostname: String?
    var sandbox: String?
    var log_dir: String?
    var launch_time_ms: Int64?
    var uid: Int32?
    var ports: [String: Int64]
    var statuses: [Status]
    var processes: [Process]
    /// Our extension: the task's health check (an Aurora job's `health_check_config`).
    var health: ProbeStatusDocument.Outcome?
    var error: String?
    /// `status --json`, active tasks: whether a live runner holds the task (false: resume it
    /// with `thermos run` and the same task id).
    var runner_running: Bool?

    init(state replayed: RunnerState, taskID: String?, root: String? = nil, owner: String? = nil) {
        let header = replayed.header
        task_id = header?.taskID ?? taskID
        self.root = root
        self.owner = owner
        state = replayed.taskState?.name
        user = header?.user
        hostname = header?.hostname
        sandbox = header?.sandbox
        log_dir = header?.logDir
        launch_time_ms = header?.launchTimeMs
        uid = header?.uid
        ports = Dictionary(uniqueKeysWithValues: (header?.ports ?? [:]).map { ($0.key, $0.value) })
        statuses = replayed.statuses.map {
            Status(state: $0.state?.name ?? "None", timestamp_ms: $0.timestampMs, runner_pid: $0.runnerPid, runner_uid: $0.runnerUid)
        }
        processes = replayed.processes.map { name, runs in
            Process(name: name, runs: runs.enumerated().map { RunReport(run: $0.offset, $0.element) })
        }
    }
}

/// Pretty, key-sorted JSON of `value`, as a string.
func jsonString(_ value: some Encodable, pretty: Bool = true) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
