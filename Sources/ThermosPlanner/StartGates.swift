public import ThermosConfig

/// The `started` and `ready` entries of `depends_on` (our extension; `completed` entries are
/// ordering prerequisites of `TaskPlanner` like `order`): a process whose dependencies are
/// finished may still have to wait until other processes have started or become ready.
///
/// Rules:
/// * `started`: the other process has had a run reach RUNNING;
/// * `ready`: the other process has had a run pass its readiness probe once;
/// * both are latched: once met they stay met, even if the other process restarts or fails later;
/// * a process that has had a run already passed its gates (after a runner restart the
///   readiness seen by the previous runner is not in the checkpoint, but its effect is);
/// * a gate that can no longer open (nothing running and nothing else can start) is a deadlock
///   the caller reports (`isBlockedForGood`).
///
/// Pure: the caller passes which processes started and became ready so far.
public struct StartGates: Sendable, Hashable {
    /// One `depends_on` entry that is not `completed`.
    public struct Gate: Sendable, Hashable, CustomStringConvertible {
        public var process: String
        public var condition: DependencyCondition

        public init(process: String, condition: DependencyCondition) {
            self.process = process
            self.condition = condition
        }

        public var description: String { "\(process) \(condition.rawValue)" }
    }

    /// process → the gates it waits behind, in config order.
    public let gates: [String: [Gate]]

    /// The gates of the processes `processFilter` selects (all when nil).
    public init(task: TaskConfig, processFilter: ((ProcessConfig) -> Bool)? = nil) {
        var gates: [String: [Gate]] = [:]
        for process in task.processes where processFilter?(process) ?? true {
            let entries = process.dependencies.filter { $0.condition != .completed }.map { Gate(process: $0.process, condition: $0.condition) }
            if !entries.isEmpty { gates[process.name] = entries }
        }
        self.gates = gates
    }

    /// The gates of `process` not yet met.
    public func closed(_ process: String, started: Set<String>, ready: Set<String>) -> [Gate] {
        (gates[process] ?? []).filter { gate in
            switch gate.condition {
            case .started: !started.contains(gate.process)
            case .ready: !ready.contains(gate.process)
            case .completed: false
            }
        }
    }

    /// Whether `process` may start: every gate met, or it has run before (`hasRun`).
    public func isOpen(_ process: String, started: Set<String>, ready: Set<String>, hasRun: Bool = false) -> Bool {
        hasRun || closed(process, started: started, ready: ready).isEmpty
    }

    /// True when every process in `waiting` is held by a gate while nothing runs: no process
    /// can start, become ready or end, so no gate will ever open.
    public func isBlockedForGood(
        waiting: Set<String>, anythingRunning: Bool, started: Set<String>, ready: Set<String>, hasRun: (String) -> Bool
    ) -> Bool {
        guard !anythingRunning, !waiting.isEmpty else { return false }
        return waiting.allSatisfy { !isOpen($0, started: started, ready: ready, hasRun: hasRun($0)) }
    }
}
