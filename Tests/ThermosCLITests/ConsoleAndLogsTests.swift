import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos run --console`, simplerun's console and `thermos logs [-f]` through the real binary.
@Suite
struct ConsoleAndLogsTests {
    static let twoProcesses = #"""
        {"name": "pair", "processes": [
          {"name": "web", "cmdline": "echo listening; echo warn >&2"},
          {"name": "worker", "cmdline": "echo one; echo two; printf 'no newline'"}]}
        """#

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init)
    }

    @Test func runConsolePrintsEveryProcessPrefixedAndPadded() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.twoProcesses)
        let result = fixture.run(config, taskID: "console", ["--console"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = Self.lines(result.stdout)
        #expect(lines.contains("web    | listening"))
        #expect(lines.contains("web    ! warn"))
        #expect(lines.contains("worker | no newline"))
        let one = lines.firstIndex(of: "worker | one"), two = lines.firstIndex(of: "worker | two")
        #expect(one != nil && two != nil && one! < two!, "\(lines)")
        #expect(!result.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        let quiet = thermos(["run", "--root", fixture.root, "--sandbox", fixture.sandbox + "/quiet", "--task-id", "quiet", config])
        #expect(quiet.status == 0)
        #expect(!quiet.stdout.contains("listening"))
    }

    @Test func consolePrintsWhileTheTaskRuns() async {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "live", "processes": [{"name": "p", "cmdline": "echo ready; exec sleep 600"}]}"#)
        let runner = fixture.start(config, taskID: "live", ["--console"])
        #expect(await eventuallyAsync(timeout: 120) { runner.stdout.contains("p | ready\n") }, "\(runner.stderr)")
        #expect(fixture.state("live").taskState == .active)
        runner.signal(SIGTERM)
        #expect(await runner.waitAsync() == 3)
    }

    @Test func consoleIsColouredOnATerminalUnlessNoColor() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "tty", "processes": [{"name": "p", "cmdline": "echo hi; echo err >&2"}]}"#)
        func onTerminal(_ taskID: String, _ environment: String) -> CommandResult {
            let command = "\(environment) \(TestPaths.builtBinary("thermos")) run --console --root \(fixture.root) --sandbox \(fixture.sandbox)/\(taskID) --task-id \(taskID) \(config) 2>/dev/null"
            return CommandRunner.run(["script", "-qec", command, "/dev/null"], environment: ["PATH": "/usr/bin:/bin", "TERM": "xterm"])
        }
        let coloured = onTerminal("colour", "env")
        #expect(coloured.status == 0)
        #expect(coloured.stdout.contains("\u{1B}[36mp |\u{1B}[0m hi\u{1B}[0m"), "\(coloured.stdout.debugDescription)")
        #expect(coloured.stdout.contains("\u{1B}[36mp \u{1B}[1;31m!\u{1B}[0m err"))
        let plain = onTerminal("plain", "env NO_COLOR=1")
        #expect(plain.stdout.contains("p | hi"))
        #expect(plain.stdout.contains("p ! err"))
        #expect(!plain.stdout.contains("\u{1B}["))
    }

    @Test func simplerunShowsTheOutputAndRemovesItsTemporarySandbox() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let result = thermos(["simplerun", "--root", fixture.root, "--task-id", "s1", "--", "echo", "hello", "world"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.lines(result.stdout) == ["Running command: 'echo hello world'", "simple | hello world"])
        let state = fixture.state("s1")
        #expect(state.taskState == .success)
        let sandbox = state.header?.sandbox ?? ""
        #expect(sandbox.contains("thermos-sandbox."))
        #expect(!sandbox.isEmpty && access(sandbox, F_OK) != 0, "temporary sandbox \(sandbox) removed")
        #expect(fixture.taskFileExists("s1", .finished))

        let quiet = thermos(["simplerun", "--root", fixture.root, "--task-id", "s2", "--no-console", "--", "echo", "quiet"])
        #expect(quiet.status == 0)
        #expect(Self.lines(quiet.stdout) == ["Running command: 'echo quiet'"])

        let kept = thermos(["simplerun", "--root", fixture.root, "--task-id", "s3", "--sandbox", fixture.sandbox, "--", "echo", "kept"])
        #expect(kept.status == 0)
        #expect(fixture.read(".logs/simple/0/stdout") == "kept\n")
    }

    @Test func logsShowsTheLatestRunsMergedAndPrefixed() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        #expect(fixture.run(fixture.config(Self.twoProcesses), taskID: "pair").status == 0)
        let all = thermos(["logs", "--root", fixture.root, "pair"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(Set(Self.lines(all.stdout)) == ["web    | listening", "web    ! warn", "worker | one", "worker | two", "worker | no newline"])
        let worker = thermos(["logs", "--root", fixture.root, "-n", "1", "pair", "worker"])
        #expect(Self.lines(worker.stdout) == ["worker | no newline"])
        let unknown = thermos(["logs", "--root", fixture.root, "pair", "nope"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("No process nope in task pair"))
        let missing = thermos(["logs", "--root", fixture.root, "nosuch"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("Could not find task nosuch"))
    }

    @Test func logsFollowsNewRunsAndEndsWithTheTask() async {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "flaky", "processes": [
              {"name": "d", "cmdline": "echo start; while [ ! -e go ]; do sleep 0.05; done; echo done; exit 1", "max_failures": 2, "min_duration": 0}]}
            """#)
        let runner = fixture.start(config, taskID: "flaky")
        #expect(await eventuallyAsync(timeout: 120) { fixture.runs("flaky", "d").first?.state == .running })
        let follower = BackgroundCommand(
            [TestPaths.builtBinary("thermos"), "logs", "-f", "--root", fixture.root, "flaky"],
            outputPrefix: fixture.directory.path + "/logs-f")
        #expect(await eventuallyAsync(timeout: 120) { follower.stdout == "d | start\n" }, "\(follower.stderr)")
        _ = fixture.directory.write("sandbox/go", "")
        #expect(await runner.waitAsync() == 1)
        #expect(await follower.waitAsync(timeout: 120) == 0, "\(follower.stderr)")
        #expect(Self.lines(follower.stdout) == ["d | start", "d | done", "d | start", "d | done"])
    }

    @Test func aTaskThatTurnsItsLogsIntoTrapsBlocksNeitherTheConsoleNorLogs() async {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "traps", "processes": [
              {"name": "h", "cmdline": "echo before; rm .logs/h/0/stdout && mkfifo .logs/h/0/stdout; rm .logs/h/0/stderr && ln -s /etc/passwd .logs/h/0/stderr; while [ ! -e go ]; do sleep 0.05; done"},
              {"name": "ok", "cmdline": "while [ ! -e go ]; do sleep 0.05; done; echo fine"}]}
            """#)
        let runner = fixture.start(config, taskID: "traps", ["--console"])
        #expect(await eventuallyAsync(timeout: 120) { fixture.runs("traps", "h").first?.state == .running })
        let follower = BackgroundCommand(
            [TestPaths.builtBinary("thermos"), "logs", "-f", "--root", fixture.root, "traps"],
            outputPrefix: fixture.directory.path + "/logs-traps")
        #expect(await eventuallyAsync(timeout: 120) { follower.stderr.contains("not a regular file") }, "\(follower.stderr)")
        _ = fixture.directory.write("sandbox/go", "")
        #expect(await runner.waitAsync(timeout: 120) == 0, "\(runner.stderr)")
        #expect(await follower.waitAsync(timeout: 120) == 0, "\(follower.stderr)")
        #expect(runner.stdout.contains("ok | fine"))
        #expect(follower.stdout.contains("ok | fine"))
        #expect(!runner.stdout.contains("root:"))
        #expect(!follower.stdout.contains("root:"))
        #expect(runner.stderr.contains("not a regular file"))
        let again = thermos(["logs", "--root", fixture.root, "traps"])
        #expect(again.status == 0)
        #expect(!again.stdout.contains("root:"))
        #expect(again.stderr.contains("not a regular file"))
    }

    @Test func tailRefusesALogReplacedByAFIFOWithoutBlocking() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "fifo", "processes": [{"name": "p", "cmdline": "echo x; rm .logs/p/0/stdout && mkfifo .logs/p/0/stdout"}]}"#)
        #expect(fixture.run(config, taskID: "fifo").status == 0)
        let tail = thermos(["tail", "--root", fixture.root, "fifo"])
        #expect(tail.status == 0)
        #expect(tail.stderr.contains("not a regular file"))
    }
}
