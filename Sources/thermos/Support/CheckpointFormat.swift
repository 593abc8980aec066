import OrderedCollections
import ThermosCheckpoint

/// Renders checkpoint records and replayed state the way the original CLI does.
enum CheckpointFormat {
    /// One run as `pid=…, rc=…, finish:…, state:…` (`rc` empty when unset, `None` for a missing
    /// pid or stop time). FAILED runs show their return code: we keep it on replay.
    static func run(_ run: ProcessStatus) -> String {
        let pid = run.pid.map(String.init) ?? "None"
        let returnCode = run.returnCode.map(String.init) ?? ""
        let finish = run.stopTime.map { TimeFormat.asctime($0) } ?? "None"
        return "pid=\(pid), rc=\(returnCode), finish:\(finish), state:\(run.state?.name ?? "None")"
    }

    /// `name->port` pairs joined by spaces, in stored order.
    static func ports(_ header: RunnerHeader, separator: String) -> String {
        (header.ports ?? [:]).map { "\($0.key)\(separator)\($0.value)" }.joined(separator: " ")
    }

    /// Python-repr-like rendering of a record for `thermos read --simple`.
    static func simple(_ record: RunnerCkpt) -> String {
        func field<T>(_ name: String, _ value: T?) -> String {
            "\(name)=\(value.map { "\($0)" } ?? "None")"
        }
        func quoted(_ value: String?) -> String? { value.map { "'\($0)'" } }
        switch record {
        case .runnerHeader(let h):
            let ports = h.ports.map { "{" + $0.map { "'\($0.key)': \($0.value)" }.joined(separator: ", ") + "}" }
            let fields = [
                field("task_id", quoted(h.taskID)), field("launch_time_ms", h.launchTimeMs),
                field("sandbox", quoted(h.sandbox)), field("hostname", quoted(h.hostname)), field("user", quoted(h.user)),
                field("ports", ports), field("log_dir", quoted(h.logDir)), field("uid", h.uid),
            ]
            return "RunnerCkpt(runner_header=RunnerHeader(\(fields.joined(separator: ", "))), process_status=None, task_status=None)"
        case .processStatus(let s):
            let fields = [
                field("seq", s.seq), field("process", quoted(s.process)), field("state", s.state?.rawValue),
                field("start_time", s.startTime), field("pid", s.pid), field("stop_time", s.stopTime),
                field("return_code", s.returnCode), field("coordinator_pid", s.coordinatorPid), field("fork_time", s.forkTime),
            ]
            return "RunnerCkpt(runner_header=None, process_status=ProcessStatus(\(fields.joined(separator: ", "))), task_status=None)"
        case .taskStatus(let s):
            let fields = [
                field("state", s.state?.rawValue), field("timestamp_ms", s.timestampMs),
                field("runner_pid", s.runnerPid), field("runner_uid", s.runnerUid),
            ]
            return "RunnerCkpt(runner_header=None, process_status=None, task_status=TaskStatus(\(fields.joined(separator: ", "))))"
        }
    }
}
