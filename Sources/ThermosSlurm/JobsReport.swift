/// One row of `thermos jobs`: one instance of a submitted job array.
public struct InstanceRow: Sendable, Equatable {
    public var jobID: Int
    public var instance: Int
    public var node: String?
    /// Slurm's state, or nil when Slurm no longer lists the instance and it was never seen.
    public var slurmState: String?
    public var taskID: String
    /// The Thermos task state; nil until the instance has started.
    public var state: String?
    /// The task's page on its node's observer.
    public var observer: String?

    public init(jobID: Int, instance: Int, node: String?, slurmState: String?, taskID: String, state: String?, observer: String?) {
        self.jobID = jobID
        self.instance = instance
        self.node = node
        self.slurmState = slurmState
        self.taskID = taskID
        self.state = state
        self.observer = observer
    }
}

/// Builds the rows of `thermos jobs` from the records, `squeue` and the task states (pure).
public enum JobsReport {
    /// Where a task's state comes from: its checkpoint when the root is reachable, else the
    /// node's observer. Returns task id → (state, hostname from the checkpoint header).
    public typealias StateSource = (_ record: JobRecord, _ rows: [(taskID: String, node: String?)]) -> [String: (state: String, host: String?)]

    /// Terminal Thermos states and the Slurm state their exit code gives the job.
    public static func slurmState(forTerminal state: String) -> String? {
        switch state {
        case "SUCCESS": "COMPLETED"
        case "FAILED", "KILLED", "LOST": "FAILED"
        default: nil
        }
    }

    /// - Parameter instances: job id → the instances to show; a job not in it shows all of them.
    public static func rows(
        records: [JobRecord], squeue: [SqueueRow], instances: [Int: Set<Int>] = [:], observerPort: (JobRecord) -> Int,
        states: StateSource
    ) -> [InstanceRow] {
        var byInstance: [Int: [Int: SqueueRow]] = [:]
        for row in squeue {
            guard let instance = row.instance else { continue }
            byInstance[row.arrayJobID, default: [:]][instance] = row
        }
        var result: [InstanceRow] = []
        for record in records {
            let wanted = (0..<record.instances).filter { instances[record.jobID]?.contains($0) ?? true }
            var partial: [InstanceRow] = []
            for instance in wanted {
                let seen = byInstance[record.jobID]?[instance]
                let sighting = record.lastSeen[String(instance)]
                let node = seen.flatMap { $0.nodes.isEmpty ? nil : $0.nodes } ?? sighting?.node
                partial.append(InstanceRow(
                    jobID: record.jobID, instance: instance, node: node, slurmState: seen?.state ?? sighting?.slurmState,
                    taskID: record.taskID(instance: instance), state: nil, observer: nil))
            }
            let found = states(record, partial.map { ($0.taskID, $0.node) })
            for index in partial.indices {
                if let (state, host) = found[partial[index].taskID] {
                    partial[index].state = state
                    if partial[index].node == nil { partial[index].node = host }
                    // Slurm forgot a finished job: its state follows from the task's exit code.
                    if byInstance[record.jobID]?[partial[index].instance] == nil, let mapped = slurmState(forTerminal: state) {
                        partial[index].slurmState = mapped
                    }
                }
                if let node = partial[index].node {
                    partial[index].observer = "http://\(node):\(observerPort(record))/task/\(partial[index].taskID)"
                }
            }
            result += partial
        }
        return result
    }
}
