import ArgumentParser
import ThermosControl

/// `thermos restart|stop|start TASK PROCESS`: live control of one process through the task
/// runner's control socket (our extension; Aurora had none).
struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "End the current run of a process and start a new one (not counted as a failure).")

    @OptionGroup var target: ProcessTarget

    func run() throws { try target.send { .restart(process: $0) } }
}

/// `thermos stop TASK PROCESS`.
struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "End the current run of a process and keep it down until `thermos start`.")

    @OptionGroup var target: ProcessTarget

    func run() throws { try target.send { .stop(process: $0) } }
}

/// `thermos start TASK PROCESS`.
struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run a process stopped with `thermos stop` again.")

    @OptionGroup var target: ProcessTarget

    func run() throws { try target.send { .start(process: $0) } }
}

/// The task and process a control command addresses.
struct ProcessTarget: ParsableArguments {
    @OptionGroup var rootOptions: RootOptions

    @Argument(help: "The task id.")
    var task: String

    @Argument(help: "The process name.")
    var process: String

    /// Sends the request to the runner of the first root holding the task; prints its answer.
    func send(_ request: (String) -> ControlRequest) throws {
        let roots = rootOptions.roots
        let root = roots.first { TaskControl.location(root: $0, taskID: task) != nil } ?? roots[0]
        do {
            let message = try TaskControl.send(request(process), root: root, taskID: task)
            print(message)
        } catch {
            switch error.code {
            case .unknownTask where roots.count > 1:
                throw fail("thermos: no task \(task) in \(roots.joined(separator: ", "))", code: 1)
            case .permissionDenied:
                throw fail("thermos: \(error.message)", code: 77)
            default:
                throw fail("thermos: \(error.message)", code: 1)
            }
        }
    }
}
