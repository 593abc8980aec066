import ArgumentParser
import Glibc
import ThermosConfig
import ThermosRuntime

/// `thermos simplerun`: run one command line as a one-process task.
struct SimplerunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simplerun",
        abstract: "Run a simple command line as a thermos task.",
        discussion: "Without --sandbox the task gets a fresh temporary sandbox. Exit status as for `thermos run`."
    )

    @OptionGroup var flags: RunnerFlags

    @Option(help: "The task and process name.")
    var name = "simple"

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command line (after --).", valueName: "command"))
    var command: [String] = []

    func run() throws {
        let launchTime = wallClock()
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        guard !words.isEmpty else { throw fail("Expected a command line to run, e.g. thermos simplerun -- echo hello", code: RunExit.invalidInput) }
        let cmdline = words.joined(separator: " ")
        let task: TaskConfig
        do {
            task = try TaskLaunch.commandLineTask(name: name, cmdline: cmdline)
        } catch {
            throw fail(error.message, code: RunExit.invalidInput)
        }
        print("Running command: '\(cmdline)'")
        let launch = TaskLaunch(ports: try parsePorts(flags.ports), launchTime: launchTime)
        let account: RunAccount
        do {
            account = try RunAccount.resolve(flags.user)
        } catch {
            throw fail(error.message, code: RunExit.invalidInput)
        }
        let launched = launch.identify(task, taskID: flags.taskID)
        let sandbox = flags.sandbox.map(absolutePath) ?? Self.temporarySandbox()
        let configuration = flags.configuration(launched, launch: launch, account: account, sandbox: sandbox)
        var relaunch = Array(CommandLine.arguments.dropFirst())
        if flags.sandbox == nil, let separator = relaunch.firstIndex(of: "--") {
            relaunch.insert(contentsOf: ["--sandbox", sandbox], at: separator)
        }
        try flags.execute(configuration, relaunch: relaunch)
    }

    static func temporarySandbox() -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/thermos-sandbox.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return created.map { String(cString: $0) } ?? "\(base)/thermos-sandbox"
    }
}
