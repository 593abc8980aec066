/// The processes kept down by `thermos stop`, replayed from a checkpoint's control records the
/// way the runner replays them (`RunnerCore`'s `stopped` set): a run ended KILLED with control
/// `stop` (ProcessStatus field 12) or a `stop` decision (TaskStatus field 5) stops a process,
/// a `start` decision lets it run again. Pure: records in, names out.
public struct StoppedProcesses: Sendable, Hashable {
    /// Stopped process names.
    public private(set) var names: Set<String> = []

    public init() {}

    /// The stopped processes after every record of `records`, in stream order.
    public static func replaying(_ records: some Sequence<RunnerCkpt>) -> StoppedProcesses {
        var stopped = StoppedProcesses()
        for record in records { stopped.apply(record) }
        return stopped
    }

    /// Applies one record.
    public mutating func apply(_ record: RunnerCkpt) {
        switch record {
        case .processStatus(let status):
            guard let name = status.process else { return }
            if status.state == .killed, status.control == .stop { names.insert(name) }
        case .taskStatus(let status):
            guard let decision = status.control, let name = decision.process else { return }
            switch decision.action {
            case .stop?: names.insert(name)
            case .start?: names.remove(name)
            case .restart?, nil: break
            }
        case .runnerHeader:
            break
        }
    }

    public func contains(_ process: String) -> Bool { names.contains(process) }
}
