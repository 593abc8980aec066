import CThermosSys
import Glibc
import Logging
import ThermosCheckpoint
import ThermosConfig
import ThermosCoordination
import ThermosLogging
import ThermosRuntime

// thermos-runner: the runner process of one task (the original's `thermos_runner`). `thermos
// run`, `simplerun` and `runner` load, select, bind, validate and evaluate the config, then
// `exec` this binary with a `RunnerInvocation` and the evaluated task in a sealed memfd
// (`TaskHandover`), so the pid, signals and exit status stay those of the user's command. No
// Foundation, no argument parser, no server stack: a plain synchronous `main`.

/// One line on stderr (the runner's errors, like the CLI's).
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

let invocation: RunnerInvocation
do {
    invocation = try RunnerInvocation(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("thermos-runner: \(error.message) (it is started by thermos run, simplerun or runner)")
    exit(2)
}
// The name the user started (`ps -C thermos`, `pgrep -x thermos`, /proc/<pid>/comm): the
// process is still their `thermos` command; /proc/<pid>/exe and the command line say thermos-runner.
_ = cthermos_set_process_name("thermos")
ThermosLogging.bootstrap(level: invocation.logLevel)

/// Runs the invocation's task to its end and returns the final state. The runner and its
/// platform are released before this returns (the platform stops its fork server).
func runTask(_ invocation: RunnerInvocation) throws(RunnerError) -> TaskState {
    let task = try TaskHandover.read(fd: invocation.taskFD)
    let configuration = invocation.configuration(task: task)
    let platform = try LinuxRunnerPlatform()
    let logger = Logger(label: "runner")
    let runner = try TaskRunner(configuration: configuration, platform: platform, logger: logger)
    if runner.isTerminal {
        if try runner.finishInterruptedFinalization() {
            logger.info("Task \(configuration.taskID) already finished: \(runner.taskState.name); completed its interrupted finalization.")
        } else {
            logger.info("Task \(configuration.taskID) already finished: \(runner.taskState.name); nothing to do.")
        }
        return runner.taskState
    }
    return try runner.run(force: invocation.force)
}

do {
    let state = try runTask(invocation)
    exit(invocation.exitCodes.status(for: state))
} catch {
    printError(error.message)
    exit(invocation.exitCodes.status(for: error))
}
