import ArgumentParser
import Glibc
import ThermosConfig
import ThermosRuntime

/// `thermos simplerun`: run one command line as a one-process task.
struct SimplerunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simplerun",
        abstract: "Run a simple command line as a thermos task.",
        discussion: """
            Without --sandbox the task gets a fresh temporary sandbox, removed (logs included) when \
            the task ends; its checkpoint stays in the root. The output is printed live, prefixed \
            with the process name, unless --no-console. Exit status as for `thermos run`.
            """
    )

    @OptionGroup var flags: RunnerFlags

    @Option(help: "The task and process name.")
    var name = "simple"

    @Flag(inversion: .prefixedNo, help: "Print the command's output live, prefixed with its name.")
    var console = true

    /// Set on the `--daemon` relaunch: the `--sandbox` given is the temporary one made here.
    @Flag(help: .hidden)
    var temporarySandbox = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command line (after --).", valueName: "command"))
    var command: [String] = []

    func run() throws {
        let launchTime = wallClock()
        // Passthrough parsing hands `--help` over as the command: `-- --help` runs it.
        if let first = command.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
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
        flushStandardOutput()  // before the console writes to the same descriptor
        let launch = TaskLaunch(ports: try parsePorts(flags.ports), launchTime: launchTime)
        let account: RunAccount
        do {
            account = try RunAccount.resolve(flags.user)
        } catch {
            throw fail(error.message, code: RunExit.invalidInput)
        }
        let launched = launch.identify(task, taskID: flags.taskID)
        let sandbox = flags.sandbox.map(absolutePath) ?? Self.temporarySandbox()
        var configuration = flags.configuration(launched, launch: launch, account: account, sandbox: sandbox)
        configuration.console = console
        configuration.removeSandboxWhenDone = flags.sandbox == nil || temporarySandbox
        var relaunch = Array(CommandLine.arguments.dropFirst())
        if flags.sandbox == nil, let separator = relaunch.firstIndex(of: "--") {
            relaunch.insert(contentsOf: ["--sandbox", sandbox, "--temporary-sandbox"], at: separator)
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
