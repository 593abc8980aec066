import Testing
import ThermosCheckpoint
import ThermosCoordination

/// The runner↔coordinator command line: what one side writes the other reads back exactly,
/// and nothing unknown or malformed is accepted.
struct CoordinatorInvocationTests {
    static func sample() -> CoordinatorInvocation {
        var invocation = CoordinatorInvocation(
            checkpoint: "/root/checkpoints/t/coordinator.p", process: "p", seq: 7, forkTime: 1_764_000_000.123456789,
            cmdline: "echo 'a b' --seq 3 && exit 1", sandbox: "/sandbox", logDirectory: "/sandbox/.logs/p/2")
        invocation.user = "nobody"
        invocation.chroot = true
        invocation.preserveEnvironment = true
        invocation.destination = .both
        invocation.mode = .rotate
        invocation.rotateSize = 1234
        invocation.rotateBackups = 3
        invocation.fsync = .group
        invocation.runnerUser = "root"
        invocation.runnerHome = "/root"
        return invocation
    }

    @Test func argumentsRoundTrip() throws {
        let invocation = Self.sample()
        #expect(try CoordinatorInvocation(arguments: invocation.arguments) == invocation)
        var minimal = CoordinatorInvocation(checkpoint: "/c", process: "q", seq: 0, forkTime: 0.1, cmdline: "", sandbox: "", logDirectory: "/l")
        #expect(try CoordinatorInvocation(arguments: minimal.arguments) == minimal)
        for policy in SyncPolicy.allCases {
            minimal.fsync = policy
            #expect(try CoordinatorInvocation(arguments: minimal.arguments).fsync == policy)
        }
    }

    /// Our extensions: the process's `env` (in order, values with `=` and spaces) and `cwd`.
    @Test func environmentAndWorkingDirectoryRoundTrip() throws {
        var invocation = Self.sample()
        invocation.environment = [("GREETING", "hello world"), ("EQUATION", "a=b=c"), ("EMPTY", ""), ("PATH", "/opt/bin")]
        invocation.cwd = "work/dir with space"
        let parsed = try CoordinatorInvocation(arguments: invocation.arguments)
        #expect(parsed.environment.map(\.key) == ["GREETING", "EQUATION", "EMPTY", "PATH"])
        #expect(parsed.environment.map(\.value) == ["hello world", "a=b=c", "", "/opt/bin"])
        #expect(parsed.cwd == "work/dir with space")
        #expect(parsed == invocation)
        #expect(try CoordinatorInvocation(arguments: Self.sample().arguments).environment.isEmpty)
        #expect(try CoordinatorInvocation(arguments: Self.sample().arguments).cwd == nil)
        #expect(throws: CoordinatorInvocation.Error.self) { try CoordinatorInvocation(arguments: Self.sample().arguments + ["--env", "=x"]) }
        #expect(throws: CoordinatorInvocation.Error.self) { try CoordinatorInvocation(arguments: Self.sample().arguments + ["--env"]) }
    }

    @Test func theForkTimeSurvivesExactly() throws {
        for time in [1_764_000_000.000001, 0.1 + 0.2, 1e9 / 3] {
            var invocation = Self.sample()
            invocation.forkTime = time
            #expect(try CoordinatorInvocation(arguments: invocation.arguments).forkTime == time)
        }
    }

    @Test(arguments: [
        ("--fsync", "sometimes"), ("--logger-destination", "syslog"), ("--logger-mode", "fancy"), ("--seq", "x"),
        ("--seq", "-1"), ("--fork-time", "soon"), ("--rotate-size", "big"), ("--handshake-fd", "four"),
    ])
    func badValuesAreErrors(_ flag: String, _ value: String) {
        var arguments = Self.sample().arguments
        let index = arguments.firstIndex(of: flag)!
        arguments[index + 1] = value
        #expect(throws: CoordinatorInvocation.Error.self) { try CoordinatorInvocation(arguments: arguments) }
    }

    @Test func unknownMissingAndRepeatedFlagsAreErrors() {
        let arguments = Self.sample().arguments
        #expect(throws: CoordinatorInvocation.Error("unknown flag --frobnicate")) {
            try CoordinatorInvocation(arguments: arguments + ["--frobnicate"])
        }
        #expect(throws: CoordinatorInvocation.Error("--user needs a value")) { try CoordinatorInvocation(arguments: arguments + ["--user"]) }
        #expect(throws: CoordinatorInvocation.Error("--sandbox given twice")) {
            try CoordinatorInvocation(arguments: arguments + ["--sandbox", "/other"])
        }
        let index = arguments.firstIndex(of: "--process")!
        var missing = arguments
        missing.removeSubrange(index...index + 1)
        #expect(throws: CoordinatorInvocation.Error("--process is required")) { try CoordinatorInvocation(arguments: missing) }
    }

    @Test func rotationLimitsAreChecked() {
        var invocation = Self.sample()
        invocation.rotateBackups = 0
        #expect(throws: CoordinatorInvocation.Error("Log backups cannot be less than one.")) {
            try CoordinatorInvocation(arguments: invocation.arguments)
        }
    }
}
