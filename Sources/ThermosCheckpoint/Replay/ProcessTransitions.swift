/// The original dispatcher's process transition table (reference §1.4), with one deliberate fix:
/// a FAILED run keeps its `stop_time` and `return_code` (DESIGN §2.1).
enum ProcessTransitions {
    /// Applies `update` to `run` or throws `invalidState` naming the broken rule.
    static func apply(_ update: ProcessStatus, to run: inout ProcessStatus) throws(CheckpointError) {
        guard let target = update.state else {
            throw CheckpointError(.invalidState, "Missing field state from \(describe(update))!")
        }
        let previous = run.state
        func allow(_ allowed: ProcessState?...) throws(CheckpointError) {
            guard allowed.contains(previous) else {
                let from = previous.map(\.name) ?? "None"
                throw CheckpointError(
                    .invalidState,
                    "Detected invalid state transition \(from) => \(target.name) for process \(update.process ?? "?")")
            }
        }
        func required<T>(_ value: T?, _ field: String) throws(CheckpointError) -> T {
            guard let value else {
                throw CheckpointError(.invalidState, "Missing field \(field) from \(describe(update))!")
            }
            return value
        }
        run.seq = update.seq
        switch target {
        case .waiting:
            try allow(nil)
            run.state = target
            run.process = try required(update.process, "process")
        case .forked:
            try allow(.waiting)
            run.forkTime = try required(update.forkTime, "fork_time")
            run.coordinatorPid = try required(update.coordinatorPid, "coordinator_pid")
            run.state = target
        case .running:
            try allow(.forked)
            run.startTime = try required(update.startTime, "start_time")
            run.pid = try required(update.pid, "pid")
            run.state = target
        case .success, .killed:
            try allow(target == .success ? .running : .forked, .running)
            run.stopTime = try required(update.stopTime, "stop_time")
            run.returnCode = try required(update.returnCode, "return_code")
            run.control = update.control
            run.state = target
        case .failed:
            try allow(.waiting, .running)
            if previous == .running {
                run.stopTime = try required(update.stopTime, "stop_time")
                run.returnCode = try required(update.returnCode, "return_code")
            } else {
                // A launch failure (from WAITING) has no stop time or return code.
                run.stopTime = update.stopTime
                run.returnCode = update.returnCode
            }
            run.state = target
        case .lost:
            try allow(.forked, .running)
            run.state = target
        case .unknown(let value):
            throw CheckpointError(.invalidState, "Unknown state = \(value)")
        }
    }

    static func describe(_ update: ProcessStatus) -> String {
        "ProcessStatus(process=\(update.process ?? "None"), seq=\(update.seq.map(String.init) ?? "None"), "
            + "state=\(update.state?.name ?? "None"))"
    }
}
