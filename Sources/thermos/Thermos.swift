import ArgumentParser

/// `thermos`: run and inspect Thermos tasks on this machine.
@main
struct Thermos: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thermos",
        abstract: "Run and inspect Thermos tasks on this machine, or as Slurm job arrays.",
        discussion: """
            Checkpoints are byte-compatible with Apache Aurora's Thermos: these commands read roots \
            written by the original. The default root is $THERMOS_ROOT, else /var/run/thermos.
            """,
        subcommands: [
            StatusCommand.self, RunCommand.self, SimplerunCommand.self, ReadCommand.self, InspectCommand.self, ConvertCommand.self,
            KillCommand.self, TailCommand.self, RunnerCommand.self, GcCommand.self, ObserverCommand.self,
            SetupDSLCommand.self, SubmitCommand.self, JobsCommand.self, CancelCommand.self,
        ]
    )
}
