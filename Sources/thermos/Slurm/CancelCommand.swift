import ArgumentParser
import ThermosSlurm

/// `thermos cancel`: stop instances of a submitted job, gracefully unless `--now`.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel instances of a Slurm job submitted with thermos submit.",
        discussion: """
            A running instance's runner gets SIGTERM (scancel --batch): a staged kill, CLEANING → \
            FINALIZING with the final processes run, state KILLED, Slurm state FAILED (exit 3). \
            --now sends SIGQUIT instead: the runner kills every process at once and records KILLED. \
            A pending instance is removed from the queue (plain scancel: CANCELLED).
            """
    )

    @Flag(help: "Kill at once instead of the staged kill.")
    var now = false

    @Argument(help: ArgumentHelp("Jobs or single instances.", valueName: "job_id[.instance]"))
    var targets: [String]

    func run() throws {
        guard !targets.isEmpty else { throw fail("name a job to cancel: thermos cancel JOB_ID[.INSTANCE]...", code: 2) }
        do {
            let parsed = try targets.map(JobTarget.parse)
            let rows = try Squeue.rows(jobIDs: parsed.map(\.jobID))
            var running: [String] = []
            var pending: [String] = []
            for target in parsed {
                let matching = rows.filter { $0.arrayJobID == target.jobID && (target.instance == nil || $0.instance == target.instance) }
                guard !matching.isEmpty else {
                    let what = target.instance.map { "instance \($0) of job \(target.jobID)" } ?? "job \(target.jobID)"
                    throw SlurmError(.unknownJob, "\(what) is not in Slurm's queue (finished and purged, or never submitted)")
                }
                for row in matching {
                    let spec = row.instance.map { "\(row.arrayJobID)_\($0)" } ?? String(row.arrayJobID)
                    switch row.state {
                    case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED": pending.append(spec)
                    case "RUNNING", "CONFIGURING", "RESIZING", "SIGNALING", "STAGE_OUT": running.append(spec)
                    default: printError("\(spec): already \(row.state)")
                    }
                }
            }
            if !running.isEmpty {
                _ = try SlurmCommand.output(["scancel", "--batch", "--signal=\(now ? "QUIT" : "TERM")"] + running)
            }
            if !pending.isEmpty {
                _ = try SlurmCommand.output(["scancel"] + pending)
            }
            for spec in running { print("\(spec): \(now ? "killing" : "killing (staged)")") }
            for spec in pending { print("\(spec): removed from the queue") }
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}
