public import ArgumentParser
public import Logging
import ThermosCheckpoint
import ThermosLogging

/// `thermos`: run and inspect Thermos tasks on this machine.
@main
struct Thermos: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thermos",
        abstract: "Run and inspect Thermos tasks on this machine, or as Slurm job arrays.",
        discussion: """
            Checkpoints are byte-compatible with Apache Aurora's Thermos: these commands read roots \
            written by the original. The default root is $THERMOS_ROOT, else /var/run/thermos; a user \
            who cannot write there gets $XDG_STATE_HOME/thermos (else ~/.local/state/thermos).
            """,
        version: ThermosVersion.string,
        subcommands: [
            StatusCommand.self, RunCommand.self, SimplerunCommand.self, ReadCommand.self, InspectCommand.self, ConvertCommand.self,
            KillCommand.self, TailCommand.self, LogsCommand.self, RunnerCommand.self, GcCommand.self, ObserverCommand.self,
            SetupDSLCommand.self, SubmitCommand.self, JobsCommand.self, CancelCommand.self,
            RestartCommand.self, StopCommand.self, StartCommand.self,
        ]
    )

    /// Parses, sets up logging (glog lines on stderr at the command's `--log-level`), runs.
    static func main() {
        do {
            var command = try parseAsRoot()
            ThermosLogging.bootstrap(level: (command as? any LogLevelOption)?.logLevel ?? .info)
            try command.run()
        } catch {
            exitUsageErrorsWith2(error)
        }
    }
}

/// A command with a `--log-level` flag.
protocol LogLevelOption {
    var logLevel: Logger.Level { get }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension RunCommand: LogLevelOption {
    var logLevel: Logger.Level { flags.processOptions.logLevel }
}

extension SimplerunCommand: LogLevelOption {
    var logLevel: Logger.Level { flags.processOptions.logLevel }
}

extension RunnerCommand: LogLevelOption {
    var logLevel: Logger.Level { processOptions.logLevel }
}

extension Thermos {
    /// Bad input exits 2 everywhere (like `run`'s invalid config): ArgumentParser's usage errors
    /// (unknown option, missing or malformed value, failed validation), which it would exit with
    /// 64, print their message and the command's usage and exit 2.
    static func exitUsageErrorsWith2(_ error: any Error) -> Never {
        guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
        printError(fullMessage(for: error))
        exit(withError: ExitCode(2))
    }
}
