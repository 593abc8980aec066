import OrderedCollections
public import ThermosCheckpoint

/// How a kill concludes the runs of a task, for the runner's terminal sweep and `thermos kill`
/// alike (the original's `_kill` and `TaskRunnerHelper.kill`): an ended run only has leftovers
/// to SIGKILL; an unfinished run found alive is recorded KILLED, one found dead LOST (a run
/// still WAITING never started and is left as it is).
public enum KillPolicy {
    /// The return code the runner records for a run it kills (`-1`).
    public static let runnerKillReturnCode: Int32 = -1
    /// The return code `thermos kill` records (`-9`, it SIGKILLs first).
    public static let helperKillReturnCode: Int32 = -9

    /// What to do with one process's last run.
    public struct Verdict: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// The run ended; these pids of its command (and descendants) were still alive.
            case leftovers([Int32])
            /// Unfinished and alive: record KILLED.
            case killed
            /// Unfinished and gone: record LOST.
            case lost
        }

        public var process: String
        public var run: ProcessStatus
        public var kind: Kind
    }

    /// The verdict for every process of `state` that needs one, in stream order, from `scans`
    /// (a process missing from `scans` counts as nothing alive).
    public static func verdicts(_ state: RunnerState, scans: [String: ProcessScan]) -> [Verdict] {
        var verdicts: [Verdict] = []
        for (name, runs) in state.processes {
            guard let run = runs.last else { continue }
            let scan = scans[name] ?? ProcessScan()
            if run.state?.isTerminal ?? false {
                verdicts.append(Verdict(process: name, run: run, kind: .leftovers([scan.pid].compactMap { $0 } + scan.tree.sorted())))
            } else if scan.isAlive {
                verdicts.append(Verdict(process: name, run: run, kind: .killed))
            } else if run.state != .waiting {
                verdicts.append(Verdict(process: name, run: run, kind: .lost))
            }
        }
        return verdicts
    }
}
