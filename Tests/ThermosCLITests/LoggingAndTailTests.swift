import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Process logging (reference §1.6 "Logging", §6.11, §6.12) and `thermos tail` (§3.5).
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct LoggingAndTailTests {
    /// Files in a run's log directory with their sizes.
    func logFiles(_ fixture: RunnerFixture, _ process: String) -> [String: Int] {
        let directory = "\(fixture.sandbox)/.logs/\(process)/0"
        let listing = CommandRunner.run(["find", directory, "-maxdepth", "1", "-type", "f", "-printf", "%f %s\n"]).stdout
        var files: [String: Int] = [:]
        for line in listing.split(separator: "\n") {
            let parts = line.split(separator: " ")
            files[String(parts[0])] = Int(parts[1])
        }
        return files
    }

    @Test func standardLogsAppendStdoutAndStderr() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "log", "processes": [{"name": "p", "cmdline": "head -c 2000000 /dev/zero; for i in $(seq 31); do echo stderr >&2; done"}]}"#)
        #expect(fixture.run(config, taskID: "std").status == 0)
        #expect(logFiles(fixture, "p") == ["stdout": 2_000_000, "stderr": 31 * 7])
    }

    @Test func runnerFlagsRotateLogsOfProcessesWithoutALogger() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "log-config-task", "processes": [
              {"name": "opt-log-config-process", "cmdline": "head -c 2097152 /dev/zero; head -c 3145728 /dev/zero >&2"},
              {"name": "custom-log-config-process", "cmdline": "head -c 2097152 /dev/zero", "logger": {"destination": "file", "mode": "standard"}}]}
            """#)
        let result = fixture.run(config, taskID: "rot", ["--process-logger-mode", "rotate", "--rotate-log-size-mb", "1", "--rotate-log-backups", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(logFiles(fixture, "opt-log-config-process") == [
            "stdout": 0, "stdout.1": 1_048_576, "stderr": 0, "stderr.1": 1_048_576,
        ])
        #expect(logFiles(fixture, "custom-log-config-process") == ["stdout": 2_097_152, "stderr": 0])
    }

    @Test func processLoggerRotationKeepsExactlyItsBackups() {
        // test_log_rotation: 70-byte files, 2 backups, 31 lines of 7 bytes.
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "rotation", "processes": [{"name": "p", "cmdline": "for i in $(seq 31); do echo stdout; done",
              "logger": {"mode": "rotate", "rotate": {"log_size": 70, "backups": 2}}}]}
            """#)
        #expect(fixture.run(config, taskID: "rot").status == 0)
        #expect(logFiles(fixture, "p") == ["stdout": 7, "stdout.1": 70, "stdout.2": 70, "stderr": 0])
    }

    @Test func destinationsNoneConsoleAndBoth() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        func task(_ destination: String) -> String {
            fixture.config(#"""
                {"name": "d", "processes": [{"name": "p", "cmdline": "echo hello world; echo hello stderr >&2",
                  "logger": {"destination": "\#(destination)"}}]}
                """#, name: "\(destination).json")
        }
        let none = thermos(["run", "--root", fixture.root, "--sandbox", fixture.sandbox + "/none", "--task-id", "none", task("none")])
        #expect(none.status == 0)
        #expect(access(fixture.sandbox + "/none/.logs/p/0/stdout", F_OK) != 0)
        #expect(!none.stdout.contains("hello world"))
        let console = thermos(["run", "--root", fixture.root, "--sandbox", fixture.sandbox + "/console", "--task-id", "console", task("console")])
        #expect(console.stdout == "hello world\n")
        #expect(console.stderr.contains("hello stderr\n"))
        #expect(access(fixture.sandbox + "/console/.logs/p/0/stdout", F_OK) != 0)
        let both = thermos(["run", "--root", fixture.root, "--sandbox", fixture.sandbox + "/both", "--task-id", "both", task("both")])
        #expect(both.stdout == "hello world\n")
        #expect(both.stderr.contains("hello stderr\n"))
        #expect(readBytes(fixture.sandbox + "/both/.logs/p/0/stdout").map { String(decoding: $0, as: UTF8.self) } == "hello world\n")
        #expect(readBytes(fixture.sandbox + "/both/.logs/p/0/stderr").map { String(decoding: $0, as: UTF8.self) } == "hello stderr\n")
    }

    @Test func tailShowsTheTrueLastLines() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "t", "processes": [{"name": "p", "cmdline": "seq 1 25; echo oops >&2"}, {"name": "q", "cmdline": "true"}]}
            """#)
        #expect(fixture.run(config, taskID: "tail").status == 0)
        let log = "\(fixture.sandbox)/.logs/p/0/stdout"
        let tail = thermos(["tail", "--root", fixture.root, "tail", "p"])
        #expect(tail.status == 0)
        #expect(tail.stdout == "Tail of terminal log \(log)\n" + (16...25).map { "\($0)\n" }.joined())
        #expect(thermos(["tail", "--root", fixture.root, "-n", "3", "tail", "p"]).stdout.hasSuffix("23\n24\n25\n"))
        #expect(thermos(["tail", "--root", fixture.root, "--stderr", "tail", "p"]).stdout.hasSuffix("stderr\noops\n"))
        let ambiguous = thermos(["tail", "--root", fixture.root, "tail"])
        #expect(ambiguous.status == 1 && ambiguous.stderr.contains("ERROR: More than one process matches query."))
        let missing = thermos(["tail", "--root", fixture.root, "nosuchtask"])
        #expect(missing.status == 1 && missing.stderr.contains("ERROR: Could not find task."))
        #expect(thermos(["tail", "--root", fixture.root, "tail", "nosuch"]).stderr.contains("ERROR: No processes found."))
    }

    @Test func tailFollowsALiveRunUntilItEnds() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "f", "processes": [{"name": "p", "cmdline": "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done"}]}"#)
        let runner = fixture.start(config, taskID: "follow")
        _ = try #require(fixture.waitForRunning("follow", "p"))
        let tail = thermos(["tail", "--root", fixture.root, "-f", "follow"])
        #expect(tail.status == 0)
        #expect(tail.stdout.hasPrefix("Tail of active log"))
        #expect(tail.stdout.contains("line 1\n") && tail.stdout.hasSuffix("line 5\n"))
        #expect(runner.wait() == 0)
    }
}
