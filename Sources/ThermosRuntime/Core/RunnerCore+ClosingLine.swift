import OrderedCollections
import ThermosConfig
import ThermosCheckpoint
import ThermosPlanner

extension RunnerCore {
    /// The runner's last line: how the task ended and why, from the core's state alone —
    /// `Task FAILED: process worker failed 3 times (max_failures 3)`,
    /// `Task KILLED: kill requested (thermos kill)`, `Task SUCCESS: all 4 processes finished`.
    public func closingLine() -> String {
        "Task \(taskState.name): \(closingReason())"
    }

    func closingReason() -> String {
        switch taskState {
        case .success:
            let total = regularPlan.processes.count + finalizingPlan.processes.count
            let finished = regularPlan.finished.count + finalizingPlan.finished.count
            var reason = finished == total
                ? "all \(total) process\(total == 1 ? "" : "es") finished"
                : "\(finished) of \(total) processes finished"
            let tolerated = regularPlan.failed.sorted(by: byTaskOrder)
            if !tolerated.isEmpty {
                reason += "; failed within the task's max_failures \(configuration.task.maxFailures): \(tolerated.joined(separator: ", "))"
            }
            return reason + finalizationNote()
        case .failed:
            if regularPlan.isDeadlocked && regularPlan.failed.isEmpty {
                let waiting = regularPlan.processes.subtracting(regularPlan.finished).sorted(by: byTaskOrder)
                return "no process can run any more (waiting: \(waiting.joined(separator: ", ")))"
            }
            let failed = regularPlan.failed.sorted(by: byTaskOrder)
            var reason = failed.map(describeFailure).joined(separator: "; ")
            let limit = configuration.task.maxFailures
            if limit != 1 { reason += " (task max_failures \(limit))" }
            return reason
        case .killed:
            return killReason ?? "kill requested"
        case .lost:
            return killReason ?? "the runner lost the task"
        case .active, .cleaning, .finalizing, .unknown:
            return "not finished"
        }
    }

    /// `process worker failed 3 times (max_failures 3)`, or the run limit it reached.
    private func describeFailure(_ name: String) -> String {
        let failures = regularPlan.failures(of: name)
        if regularPlan.hasReachedRunLimit(name) {
            return "process \(name) reached the run limit (\(regularPlan.totalRunLimit) runs)"
        }
        let maxFailures = regularPlan.attributes[name]?.maxFailures ?? 1
        return "process \(name) failed \(failures) time\(failures == 1 ? "" : "s") (max_failures \(maxFailures))"
    }

    /// `; finalization cut at the finalization wait` when final processes did not all finish.
    private func finalizationNote() -> String {
        let pending = finalizingPlan.processes.subtracting(finalizingPlan.finished).subtracting(finalizingPlan.failed)
        guard !finalizingPlan.processes.isEmpty, !pending.isEmpty else { return "" }
        return "; final processes not finished: \(pending.sorted(by: byTaskOrder).joined(separator: ", "))"
    }
}
