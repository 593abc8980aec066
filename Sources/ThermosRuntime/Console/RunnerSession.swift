import Logging
import ThermosPlatform

/// What a runner does around running a task, beyond the task itself: the console
/// (`RunnerConfiguration.console`) while it runs, and removing a temporary sandbox
/// (`RunnerConfiguration.removeSandboxWhenDone`, simplerun's) once it is terminal. The
/// checkpoint and task file stay in the root.
struct RunnerSession {
    let configuration: RunnerConfiguration
    let logger: Logger
    let console: ConsoleFollower?

    init(_ configuration: RunnerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        console = configuration.console ? ConsoleFollower.start(configuration, logger: logger) : nil
    }

    /// Prints what the console has left, then removes a temporary sandbox of a terminal task.
    func end(terminal: Bool) {
        console?.finish()
        guard configuration.removeSandboxWhenDone, terminal else { return }
        let summary = Files.removeTree(configuration.sandbox)
        if summary.left > 0 {
            logger.warning(
                "Left \(summary.left) entries of the temporary sandbox \(configuration.sandbox)\(summary.firstError.map { ": \($0)" } ?? "")")
        } else {
            logger.info("Removed the temporary sandbox \(configuration.sandbox)")
        }
    }
}
