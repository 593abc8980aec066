import OrderedCollections
import ThermosCheckpoint
public import ThermosConfig
public import ThermosMonitor

/// The original observer's task model (reference §4.2) as JSON values, built from the
/// `TaskObserver`. `ConfigValue` keeps key order and prints like Python's `json.dumps`.
public struct ObserverModel: Sendable {
    public let observer: TaskObserver

    public init(observer: TaskObserver) {
        self.observer = observer
    }

    /// Process names bucketed by the state of their last run.
    static let buckets = ["waiting", "running", "success", "failed", "killed"]

    // MARK: resources

    /// `{cpu, ram, user, system, rss, vms, nice, status, threads}` (+ `disk`).
    static func resourceDict(_ sample: ProcessSample, disk: Int64?) -> ConfigValue {
        var map: OrderedDictionary<String, ConfigValue> = [
            "cpu": .double(sample.rate), "ram": .integer(sample.rss), "user": .double(sample.user),
            "system": .double(sample.system), "rss": .integer(sample.rss), "vms": .integer(sample.vms),
            "nice": sample.nice.map { .integer(Int64($0)) } ?? .null, "status": .string(sample.status ?? "None"),
            "threads": .integer(Int64(sample.threads)),
        ]
        if let disk { map["disk"] = .integer(disk) }
        return .map(map)
    }

    /// The task's current resource dict (zeros for finished tasks).
    func resources(_ task: ObservedTask) -> ConfigValue {
        guard !task.isFinished else { return Self.resourceDict(.empty, disk: 0) }
        let latest = task.latestResources
        return Self.resourceDict(latest.process, disk: latest.disk)
    }

    // MARK: tasks

    /// `statuses[0].timestamp_ms / 1000` in integer seconds (0 without statuses).
    static func launchTimestamp(_ state: RunnerState) -> Int64 {
        (state.statuses.first?.timestampMs ?? 0) / 1000
    }

    /// Integer seconds of the status that last changed the task state (0 if none).
    static func stateTimestamp(_ state: RunnerState) -> Int64 {
        var last: TaskState?
        var stamp: Int64 = 0
        for status in state.statuses where status.state != last {
            last = status.state
            stamp = (status.timestampMs ?? 0) / 1000
        }
        return stamp
    }

    static func ports(_ state: RunnerState) -> ConfigValue {
        .map(OrderedDictionary(uniqueKeysWithValues: (state.header?.ports ?? [:]).map { ($0.key, ConfigValue.integer($0.value)) }))
    }

    /// The task name from the task JSON (falls back to the first process's name, then the id).
    static func name(_ task: ObservedTask) -> String {
        if case .string(let name)? = task.taskJSON?["name"] { return name }
        return task.state.processes.keys.first ?? task.taskID
    }

    /// A row of `/j/task_ids`.
    public func taskRow(_ entry: TaskObserver.Entry) -> ConfigValue {
        let task = entry.task
        let state = task.state
        var row: OrderedDictionary<String, ConfigValue> = [
            "task_id": .string(task.taskID), "name": .string(Self.name(task)), "role": .string(state.header?.user ?? ""),
            "launch_timestamp": .integer(Self.launchTimestamp(state)), "state": .string(state.taskState?.name ?? "ACTIVE"),
            "state_timestamp": .integer(Self.stateTimestamp(state)), "ports": Self.ports(state),
        ]
        if case .map(let resources) = self.resources(task) {
            for (key, value) in resources { row[key] = value }
        }
        return .map(row)
    }

    /// `main(which, offset, num)`: the page of task rows, newest first. Nil for an unknown type.
    public func taskIDs(which: String?, offset: Int, num: Int) -> ConfigValue? {
        guard let type = TaskListType(rawValue: which ?? "all") else { return nil }
        let tasks = observer.tasks(type)
        let start = Self.normalizedOffset(offset, count: tasks.count)
        let rows = tasks.dropFirst(start).prefix(max(0, num)).map(taskRow)
        return .map([
            "type": .string(type.rawValue), "offset": .integer(Int64(start)), "num": .integer(Int64(num)),
            "task_count": .integer(Int64(tasks.count)), "tasks": .list(rows),
        ])
    }

    /// A negative offset counts from the end (Python's `offset % len` when `len > |offset|`, else 0).
    /// No value overflows (`Int.min` included).
    static func normalizedOffset(_ offset: Int, count: Int) -> Int {
        guard offset < 0 else { return offset }
        guard offset > -count else { return 0 }
        return offset + count
    }

    /// `{"active", "finished", "all"}`.
    public func taskIDCount() -> ConfigValue {
        let (active, finished) = observer.counts()
        return .map(["active": .integer(Int64(active)), "finished": .integer(Int64(finished)), "all": .integer(Int64(active + finished))])
    }

    /// The `/j/task` dict of one task, with its task JSON under `task`; nil if unknown.
    public func task(_ taskID: String) -> ConfigValue? {
        guard let entry = observer.task(taskID) else { return nil }
        let task = entry.task
        let state = task.state
        var buckets: OrderedDictionary<String, [ConfigValue]> = [:]
        for bucket in Self.buckets { buckets[bucket] = [] }
        for (name, runs) in state.processes {
            buckets[Self.bucket(runs.last?.state), default: []].append(.string(name))
        }
        var dict: OrderedDictionary<String, ConfigValue> = [
            "task_id": .string(taskID), "name": .string(Self.name(task)),
            "launch_timestamp": .integer(Self.launchTimestamp(state)), "state": .string(state.taskState?.name ?? "ACTIVE"),
            "state_timestamp": .integer(Self.stateTimestamp(state)), "user": .string(state.header?.user ?? ""),
            "resource_consumption": resources(task), "ports": Self.ports(state),
            "processes": .map(buckets.mapValues { .list($0) }), "task": task.taskJSON ?? .map([:]),
        ]
        // Our extensions, present only when there is something to say (an Aurora task has none).
        let stopped = task.stoppedProcesses
        if !stopped.isEmpty { dict["stopped"] = .list(state.processes.keys.filter(stopped.contains).map { .string($0) }) }
        if let probes = TaskFiles(observer: observer).probes(taskID) {
            var byProcess: OrderedDictionary<String, ConfigValue> = [:]
            for name in probes.processes.keys.sorted() { byProcess[name] = Self.probeJSON(probes.processes[name]!) }
            dict["probes"] = .map(byProcess)
            if let health = probes.health { dict["health"] = ProbeStatusDocument.json(health) }
        }
        return .map(dict)
    }

    /// `{ready, readiness, liveness}` of one process (members present when known).
    static func probeJSON(_ process: ProbeStatusDocument.Process) -> ConfigValue {
        var map: OrderedDictionary<String, ConfigValue> = [:]
        if let ready = process.ready { map["ready"] = .bool(ready) }
        if let readiness = process.readiness { map["readiness"] = ProbeStatusDocument.json(readiness) }
        if let liveness = process.liveness { map["liveness"] = ProbeStatusDocument.json(liveness) }
        return .map(map)
    }

    /// The bucket of a last-run state (None/WAITING/LOST → waiting, FORKED/RUNNING → running).
    static func bucket(_ state: ProcessState?) -> String {
        switch state {
        case .forked, .running: "running"
        case .success: "success"
        case .failed: "failed"
        case .killed: "killed"
        default: "waiting"
        }
    }

    // MARK: processes

    /// The process-run dict: latest run when `run` is nil; negative runs count from the end.
    /// Nil for an unknown task, process or run. FAILED runs keep their return code (DESIGN §2.1).
    public func process(_ taskID: String, _ name: String, run: Int? = nil) -> ConfigValue? {
        guard let task = observer.task(taskID)?.task, let runs = task.state.processes[name], !runs.isEmpty else { return nil }
        var index = run ?? runs.count - 1
        if index < 0 { index = index >= -runs.count ? index + runs.count : -1 }
        guard index >= 0, index < runs.count else { return nil }
        let status = runs[index]
        var dict: OrderedDictionary<String, ConfigValue> = [
            "process_name": .string(name), "process_run": .integer(Int64(index)), "state": .string(status.state?.name ?? "None"),
        ]
        if let start = status.startTime { dict["start_time"] = .double(start) }
        if let stop = status.stopTime { dict["stop_time"] = .double(stop) }
        if let code = status.returnCode, code != 0 { dict["return_code"] = .integer(Int64(code)) }
        if index == runs.count - 1 {
            if task.stoppedProcesses.contains(name) { dict["stopped"] = .bool(true) }
            if let probes = TaskFiles(observer: observer).probes(taskID)?.processes[name], case .map(let members) = Self.probeJSON(probes) {
                for (key, value) in members { dict[key] = value }
            }
        }
        if status.state == .running, !task.isFinished {
            let sample = task.latestResources.byProcess[name]?.sample ?? .empty
            dict["used"] = Self.resourceDict(sample, disk: nil)
        }
        return .map(dict)
    }

    /// `{process_name: latest-run dict}` of a task (nil if unknown).
    public func processes(_ taskID: String) -> ConfigValue? {
        guard let task = observer.task(taskID)?.task else { return nil }
        var map: OrderedDictionary<String, ConfigValue> = [:]
        for name in task.state.processes.keys {
            if let dict = process(taskID, name) { map[name] = dict }
        }
        return .map(map)
    }
}
