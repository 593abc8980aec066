import Glibc
import Logging
import Testing
import ThermosCheckpoint
import ThermosConfig
import ThermosCoordination
import ThermosRuntime

/// The `thermos` → `thermos-runner` hand-over: the command line reads back exactly, a runner
/// configuration survives it, nothing unknown or malformed is accepted, and the task travels
/// through a sealed memfd unchanged.
@Suite struct RunnerInvocationTests {
    static let task = TaskConfig(
        name: "web \"é\" {{x}}",
        processes: [
            ProcessConfig(
                name: "serve", cmdline: "exec python3 -m http.server 8080 'a b' \\n", resources: Resources(cpu: 0.25, ram: 1 << 20, disk: 7, gpu: 1),
                maxFailures: 3, daemon: true, ephemeral: true, minDuration: 0, final: false,
                logger: LoggerConfig(destination: .both, mode: .rotate, rotate: RotatePolicy(logSize: 1234, backups: 2))),
            ProcessConfig(name: "bye", cmdline: "echo bye", final: true),
        ],
        constraints: [Constraint(order: ["serve", "bye"])], resources: Resources(cpu: 1.5, ram: 2 << 30, disk: 1 << 30),
        maxFailures: 0, maxConcurrency: 4, finalizationWait: 45, user: "nobody")

    static func sample() -> RunnerInvocation {
        var invocation = RunnerInvocation(
            taskFD: 7, taskID: "web-20261203-120000.000001", root: "/var/run/thermos root", sandbox: "/sb/--task-id",
            logDir: "/sb/.logs", user: "nobody", uid: 65534, hostname: "node-1", launchTime: 1_764_000_000.123456789)
        invocation.ports = ["http": 8080, "admin:x": 0, "health": 65535]
        invocation.chroot = true
        invocation.preserveEnvironment = true
        invocation.loggerDestination = .console
        invocation.loggerMode = .rotate
        invocation.rotateLogSizeMB = 10
        invocation.rotateLogBackups = 3
        invocation.fsync = .always
        invocation.runLimit = 100
        invocation.preemptionWait = 2.5
        invocation.force = true
        invocation.console = true
        invocation.removeSandboxWhenDone = true
        invocation.logLevel = .debug
        invocation.exitCodes = .executor
        return invocation
    }

    @Test func argumentsRoundTrip() throws {
        let invocation = Self.sample()
        #expect(try RunnerInvocation(arguments: invocation.arguments) == invocation)
        var minimal = RunnerInvocation(
            taskFD: 0, taskID: "t", root: "/r", sandbox: "/s", logDir: "/s/.logs", user: "u", uid: nil, hostname: "", launchTime: 0)
        #expect(try RunnerInvocation(arguments: minimal.arguments) == minimal)
        for policy in SyncPolicy.allCases {
            minimal.fsync = policy
            #expect(try RunnerInvocation(arguments: minimal.arguments).fsync == policy)
        }
        for codes in RunnerInvocation.ExitCodes.allCases {
            minimal.exitCodes = codes
            #expect(try RunnerInvocation(arguments: minimal.arguments).exitCodes == codes)
        }
        for time in [1_764_000_000.000001, 0.1 + 0.2, 1e9 / 3] {
            minimal.launchTime = time
            #expect(try RunnerInvocation(arguments: minimal.arguments).launchTime == time)
        }
    }

    @Test func aRunnerConfigurationSurvivesTheInvocation() throws {
        var configuration = RunnerConfiguration(
            task: Self.task, taskID: "t1", root: "/root", sandbox: "/sandbox", logDir: "/logs", user: "nobody", uid: 65534,
            hostname: "h", ports: ["http": 1], totalRunLimit: 100, launchTime: 12.5)
        configuration.chroot = true
        configuration.preserveEnvironment = true
        configuration.loggerDestination = LoggerDestination.none
        configuration.loggerMode = .standard
        configuration.rotateLogSizeMB = 5
        configuration.rotateLogBackups = 6
        configuration.fsync = .none
        configuration.preemptionWait = 0
        configuration.console = true
        configuration.removeSandboxWhenDone = true
        let invocation = RunnerInvocation(configuration: configuration, taskFD: 3, force: false, logLevel: .info, exitCodes: .run)
        let back = try RunnerInvocation(arguments: invocation.arguments).configuration(task: Self.task)
        #expect(back.task == configuration.task && back.taskID == configuration.taskID && back.root == configuration.root)
        #expect(back.sandbox == configuration.sandbox && back.logDir == configuration.logDir && back.user == configuration.user)
        #expect(back.uid == configuration.uid && back.hostname == configuration.hostname && back.ports == configuration.ports)
        #expect(back.chroot && back.preserveEnvironment && back.loggerDestination == LoggerDestination.none && back.loggerMode == .standard)
        #expect(back.rotateLogSizeMB == 5 && back.rotateLogBackups == 6 && back.fsync == SyncPolicy.none)
        #expect(back.totalRunLimit == 100 && back.launchTime == 12.5 && back.preemptionWait == 0)
        #expect(back.console && back.removeSandboxWhenDone)
        // `thermos run` is unlimited: no --run-limit at all.
        configuration.totalRunLimit = .max
        let unlimited = RunnerInvocation(configuration: configuration, taskFD: 3, force: true, logLevel: .info, exitCodes: .run)
        #expect(!unlimited.arguments.contains("--run-limit"))
        #expect(try RunnerInvocation(arguments: unlimited.arguments).configuration(task: Self.task).totalRunLimit == .max)
    }

    @Test(arguments: [
        (["--bogus"], "unknown flag --bogus"),
        (["--task-id"], "--task-id needs a value"),
        (["--task-id", "a", "--task-id", "b"], "--task-id given twice"),
        (["--force", "--force"], "--force given twice"),
        (["--fsync", "sometimes"], "invalid value \"sometimes\" for --fsync"),
        (["--exit-codes", "maybe"], "invalid value \"maybe\" for --exit-codes"),
        (["--port", "http"], "invalid value \"http\" for --port (name:port)"),
        (["--port", ":80"], "invalid value \":80\" for --port (name:port)"),
        (["--port", "http:70000"], "invalid value \"http:70000\" for --port (name:port)"),
        (["--port", "a:1", "--port", "a:2"], "--port a given twice"),
        (["--preemption-wait", "-1"], "--preemption-wait needs seconds >= 0"),
        (["--launch-time", "nan"], "--launch-time needs a time in seconds"),
        (["--task-fd", "-3"], "--task-fd needs a descriptor >= 0"),
        (["--run-limit", "0"], "--run-limit needs a number >= 1"),
        (["--log-level", "loud"], "invalid value \"loud\" for --log-level"),
        (["--uid", "x"], "invalid value \"x\" for --uid"),
    ])
    func badCommandLinesAreErrors(change: [String], expected: String) {
        // The sample's arguments with one change (a flag replaced, or added).
        var arguments = Self.sample().arguments
        if let flag = change.first, let index = arguments.firstIndex(of: flag), flag != "--force", flag != "--port",
            change.count == 2
        {
            arguments[index + 1] = change[1]
        } else {
            arguments += change
        }
        let error = #expect(throws: RunnerInvocation.Error.self) { try RunnerInvocation(arguments: arguments) }
        #expect(error?.message == expected)
    }

    @Test(arguments: ["--task-fd", "--task-id", "--root", "--sandbox", "--log-dir", "--user", "--hostname", "--launch-time", "--preemption-wait", "--exit-codes"])
    func requiredFlagsAreRequired(flag: String) {
        var arguments = Self.sample().arguments
        let index = arguments.firstIndex(of: flag)!
        arguments.removeSubrange(index...(index + 1))
        #expect(throws: RunnerInvocation.Error.self) { try RunnerInvocation(arguments: arguments) }
    }

    @Test func exitStatusesFollowTheCommand() {
        let run = RunnerInvocation.ExitCodes.run
        #expect([TaskState.success, .failed, .killed, .lost, .active].map(run.status(for:)) == [0, 1, 3, 4, 5])
        #expect(run.status(for: RunnerError(.invalidTask, "x")) == 2 && run.status(for: RunnerError(.locked, "x")) == 5)
        let executor = RunnerInvocation.ExitCodes.executor
        #expect([TaskState.success, .failed, .killed, .lost].map(executor.status(for:)) == [0, 0, 0, 0])
        #expect(executor.status(for: RunnerError(.invalidTask, "x")) == 102 && executor.status(for: RunnerError(.terminalTask, "x")) == 105)
    }

    @Test func theTaskTravelsThroughASealedMemfdUnchanged() throws {
        let fd = try TaskHandover.write(Self.task)
        // Sealed: the content can no longer be changed by anyone holding the descriptor.
        #expect(write(fd, "x", 1) == -1 && errno == EPERM)
        #expect(ftruncate(fd, 0) == -1)
        #expect(try TaskHandover.read(fd: fd) == Self.task)
    }

    @Test func aDescriptorThatIsNotASealedHandoverIsRefused() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[1]) }
        let error = #expect(throws: RunnerError.self) { try TaskHandover.read(fd: fds[0]) }
        #expect(error?.code == .internalError)
    }
}
