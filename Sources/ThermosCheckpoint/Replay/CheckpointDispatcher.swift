import OrderedCollections

/// Rebuilds a `RunnerState` from checkpoint records and calls handlers on each change, with the
/// exact rules of the original `CheckpointDispatcher` (reference §1.4).
public struct CheckpointDispatcher {
    public private(set) var universalHandlers: [any UniversalStateHandler] = []
    public private(set) var processHandlers: [any ProcessStateHandler] = []
    public private(set) var taskHandlers: [any TaskStateHandler] = []

    public init() {}

    /// Registers `handler` for every handler protocol it conforms to; called in registration order.
    public mutating func register(_ handler: AnyObject) throws(CheckpointError) {
        var known = false
        if let universal = handler as? any UniversalStateHandler {
            universalHandlers.append(universal)
            known = true
        }
        if let process = handler as? any ProcessStateHandler {
            processHandlers.append(process)
            known = true
        }
        if let task = handler as? any TaskStateHandler {
            taskHandlers.append(task)
            known = true
        }
        guard known else {
            throw CheckpointError(.invalidState, "Unknown handler type \(type(of: handler))")
        }
    }

    /// What `dispatch` did with a record.
    public enum Outcome: Sendable, Hashable {
        case applied
        /// Recovery mode met an out-of-order process update and skipped it.
        case skipped
    }

    /// Applies `record` to `state` and calls the handlers.
    /// - Parameters:
    ///   - recovery: out-of-order process updates are skipped instead of throwing.
    ///   - truncate: task statuses and new runs replace the lists instead of appending to them.
    /// - Throws: `CheckpointError` with code `.invalidSequence` or `.invalidState`; errors thrown
    ///   by handlers propagate unchanged.
    @discardableResult
    public func dispatch(
        _ state: inout RunnerState, _ record: RunnerCkpt, recovery: Bool = false, truncate: Bool = false
    ) throws -> Outcome {
        switch record {
        case .runnerHeader(let header):
            guard state.header == nil else {
                throw CheckpointError(.invalidState, "Attempting to rebind task with different parameters!")
            }
            state.header = header
            for handler in universalHandlers { try handler.onInitialization(header) }
        case .taskStatus(let status):
            if truncate { state.statuses = [status] } else { state.statuses.append(status) }
            for handler in universalHandlers { try handler.onTaskTransition(status.state, status) }
            if let taskState = status.state {
                for handler in taskHandlers { try handler.handle(taskState, status) }
            }
        case .processStatus(let update):
            guard try Self.applyProcessUpdate(update, to: &state, recovery: recovery, truncate: truncate) else {
                return .skipped
            }
            let processState = update.state ?? .unknown(-1)
            for handler in universalHandlers { try handler.onProcessTransition(processState, update) }
            for handler in processHandlers { try handler.handle(processState, update) }
        }
        return .applied
    }

    /// Applies a process update to `state`; returns false if recovery mode skipped it.
    static func applyProcessUpdate(
        _ update: ProcessStatus, to state: inout RunnerState, recovery: Bool, truncate: Bool
    ) throws(CheckpointError) -> Bool {
        guard let name = update.process else {
            throw CheckpointError(.invalidState, "Missing field process from \(ProcessTransitions.describe(update))!")
        }
        let lastRun = state.processes[name]?.last
        if let lastRun, update.seq != (lastRun.seq ?? -1) + 1 {
            if recovery { return false }
            throw CheckpointError(
                .invalidSequence,
                "Out of order sequence number for process \(name): expected \((lastRun.seq ?? -1) + 1), "
                    + "got \(update.seq.map(String.init) ?? "None")")
        }
        if update.state == .waiting {
            if let lastRun, !(lastRun.state?.isTerminal ?? false) {
                throw CheckpointError(
                    .invalidState,
                    "Detected invalid state transition \(lastRun.state?.name ?? "None") => WAITING for process \(name)")
            }
            let fresh = ProcessStatus(seq: lastRun?.seq ?? -1)
            if truncate || lastRun == nil { state.processes[name] = [fresh] } else { state.processes[name]!.append(fresh) }
        } else if lastRun == nil {
            throw CheckpointError(
                .invalidState,
                "Encountered potentially out of order process update.  Are you sure this is a full checkpoint stream?")
        }
        var runs = state.processes[name]!
        try ProcessTransitions.apply(update, to: &runs[runs.count - 1])
        state.processes[name] = runs
        return true
    }

    /// True iff `record` is a process update that would advance `state`: the process is unknown
    /// or its last run has a lower `seq` (the original's `would_update`).
    public static func wouldUpdate(_ state: RunnerState, _ record: RunnerCkpt) -> Bool {
        guard case .processStatus(let update) = record, let name = update.process else { return false }
        guard let last = state.processes[name]?.last else { return true }
        return (last.seq ?? -1) < (update.seq ?? -1)
    }

    /// Replays `records` into a fresh state with no handlers.
    public static func replay(_ records: some Sequence<RunnerCkpt>, recovery: Bool = false) throws(CheckpointError) -> RunnerState {
        var state = RunnerState()
        let dispatcher = CheckpointDispatcher()
        for record in records {
            do {
                try dispatcher.dispatch(&state, record, recovery: recovery)
            } catch let error as CheckpointError {
                throw error
            } catch {
                // No handlers are registered, so nothing else can throw.
                throw CheckpointError(.invalidState, "\(error)")
            }
        }
        return state
    }
}
