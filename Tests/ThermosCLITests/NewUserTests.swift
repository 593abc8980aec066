import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// What a new user hit first (issue 10): help, version, usage errors, the root of a non-root
/// user, a dead runner in `status`, shell completions — each through the real binaries.
@Suite
struct NewUserTests {
    @Test func simplerunHelpShowsHelpInsteadOfRunningIt() {
        let directory = TemporaryDirectory(prefix: "thermos-help")
        defer { directory.remove() }
        for flag in ["--help", "-h"] {
            let result = thermos(["simplerun", "--root", directory.path, flag])
            #expect(result.status == 0, "\(flag): \(result.stderr)")
            #expect(result.stdout.contains("USAGE: thermos simplerun"), "\(flag)")
            #expect(!result.stdout.contains("Running command"))
        }
        #expect(access(directory.path + "/checkpoints", F_OK) != 0, "nothing ran")
    }

    @Test func versionOfBothExecutables() {
        let cli = thermos(["--version"])
        #expect(cli.status == 0)
        #expect(cli.stdout == ThermosVersion.string + "\n")
        let observer = CommandRunner.run([TestPaths.builtBinary("thermos-observer"), "--version"])
        #expect(observer.status == 0)
        #expect(observer.stdout == ThermosVersion.string + "\n")
    }

    @Test func badInputExits2EverywhereNamingTheOption() {
        let directory = TemporaryDirectory(prefix: "thermos-usage")
        defer { directory.remove() }
        let config = directory.write("task.json", #"{"name": "t", "processes": [{"name": "p", "cmdline": "true"}]}"#)
        let commands = [
            "status", "run", "read", "inspect", "convert", "kill", "tail", "logs", "runner", "gc", "observer", "setup-dsl",
            "submit", "jobs", "cancel",
        ]
        // Each with what it requires, so that the unknown option is the error.
        let required = [
            "run": [config], "read": ["x"], "inspect": [config], "convert": [config], "tail": ["t"], "logs": ["t"],
            "runner": ["--thermos-json", config, "--sandbox", directory.path, "--checkpoint-root", directory.path],
            "submit": [config], "cancel": ["1"],
        ]
        for command in commands {
            let result = thermos([command] + (required[command] ?? []) + ["--no-such-option"])
            #expect(result.status == 2, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--no-such-option"), "\(command): \(result.stderr)")
        }
        let ports = thermos(["run", "--root", directory.path, "-P", "http=8080", config])
        #expect(ports.status == 2)
        #expect(ports.stderr.contains("-P/--port"))
        #expect(ports.stderr.contains("http=8080"))
        #expect(!ports.stderr.contains("USAGE: thermos <subcommand>"))
        let simple = thermos(["simplerun", "--root", directory.path, "-P", "http=8080", "--", "true"])
        #expect(simple.status == 2)
        #expect(simple.stderr.contains("-P/--port"))
        let value = thermos(["status", "--verbosity", "loud"])
        #expect(value.status == 2)
        #expect(value.stderr.contains("--verbosity"))
        let missing = thermos(["simplerun", "--root"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--root"))
        let observer = CommandRunner.run([TestPaths.builtBinary("thermos-observer"), "--port", "x"])
        #expect(observer.status == 2)
        #expect(observer.stderr.contains("--port"))
    }

    @Test func statusSaysWhenTheRunnerOfAnActiveTaskIsGone() async throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "orphan", "processes": [{"name": "p", "cmdline": "exec sleep 600"}]}"#)
        let runner = fixture.start(config, taskID: "orphan")
        #expect(
            await eventuallyAsync(timeout: 120) { fixture.runs("orphan", "p").first?.state == .running },
            "runner running: \(runner.isRunning), records: \(fixture.processRecords("orphan", "p")), stderr: \(runner.stderr)")
        let run = fixture.runs("orphan", "p").first
        let live = thermos(["status", "--root", fixture.root])
        #expect(!live.stdout.contains("runner not running"))
        #expect(try Self.runnerRunning(thermos(["status", "--root", fixture.root, "--json"]).stdout) == true)
        runner.signal(SIGKILL)
        _ = await runner.waitAsync()
        let dead = thermos(["status", "--root", fixture.root, "--verbosity", "1"])
        let lines = dead.stdout.split(separator: "\n").map(String.init)
        let task = lines.firstIndex { $0.hasPrefix("  orphan ") }
        let note = task.flatMap { $0 + 1 < lines.count ? lines[$0 + 1] : nil }
        #expect(note == "    runner not running — `thermos run` the same task id to resume", "\(lines)")
        #expect(try Self.runnerRunning(thermos(["status", "--root", fixture.root, "--json"]).stdout) == false)
        // Resuming with the same id finishes the task (the process is killed by the kill below).
        let killed = thermos(["kill", "--root", fixture.root, "orphan"])
        #expect(killed.status == 0)
        if let pid = run?.pid { #expect(await eventuallyAsync(timeout: 120) { !isAlive(pid) }) }
    }

    static func runnerRunning(_ json: String) throws -> Bool? {
        let pattern = /"runner_running" : (true|false)/
        guard let match = json.firstMatch(of: pattern) else { return nil }
        return match.1 == "true"
    }

    @Test func shellCompletionScriptsAreGenerated() {
        for shell in ["bash", "zsh", "fish"] {
            let result = thermos(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            #expect(result.stdout.contains("simplerun"), "\(shell)")
            #expect(result.stdout.contains("logs"), "\(shell)")
        }
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to run the binary as nobody"))
    func aUserWhoCannotWriteTheDefaultRootGetsAPerUserRoot() throws {
        let directory = TemporaryDirectory(prefix: "thermos-nobody")
        defer { directory.remove() }
        chmod(directory.path, 0o777)
        let home = directory.path + "/home"
        mkdir(home, 0o777)
        chmod(home, 0o777)
        let binary = TestPaths.builtBinary("thermos")
        func asNobody(_ arguments: [String], state: String? = nil) -> CommandResult {
            var environment = ["PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": directory.path, "TZ": "UTC"]
            if let state { environment["XDG_STATE_HOME"] = state }
            return CommandRunner.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", binary] + arguments, environment: environment)
        }
        let probe = asNobody(["--version"])
        try #require(probe.status == 0, "the binary is not runnable as nobody: \(probe.stderr)")
        guard !DefaultRootProbe.writableByNobody else { return }
        let result = asNobody(["simplerun", "--task-id", "mine", "--", "echo", "hi"])
        #expect(result.status == 0, "\(result.stderr)")
        let root = home + "/.local/state/thermos"
        #expect(result.stderr.contains("Using the per-user root \(root)"), "\(result.stderr)")
        #expect(!result.stderr.contains("Permission denied"))
        #expect(result.stdout.contains("simple | hi"))
        #expect(access(root + "/tasks/finished/mine", F_OK) == 0)
        let status = asNobody(["status"])
        #expect(status.stdout.contains("  mine "), "\(status.stdout) \(status.stderr)")
        let xdg = directory.path + "/state"
        mkdir(xdg, 0o777)
        chmod(xdg, 0o777)
        let run = asNobody(["simplerun", "--task-id", "xdg", "--no-console", "--", "true"], state: xdg)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("Using the per-user root \(xdg)/thermos"))
        #expect(access(xdg + "/thermos/tasks/finished/xdg", F_OK) == 0)
    }
}

/// Whether `nobody` could write the system root (then there is nothing to fall back from).
enum DefaultRootProbe {
    static var writableByNobody: Bool {
        let result = CommandRunner.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "test", "-w", "/var/run"])
        return result.status == 0
    }
}
