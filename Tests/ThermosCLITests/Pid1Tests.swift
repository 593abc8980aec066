import Foundation
import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos run` as PID 1 of a PID namespace (a container's entrypoint), via
/// `unshare --pid --fork --mount-proc`.
@Suite(.enabled(if: pid1TestsAvailable, "needs root and unshare/nsenter (util-linux)"), .timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct Pid1Tests {

    let fixture = RunnerFixture()

    /// Starts `thermos run` as PID 1; returns the `unshare` command and the runner's pid here.
    func startAsPid1(_ config: String, taskID: String) async throws -> (BackgroundCommand, Int32) {
        let command = launchAsPid1(config, taskID: taskID)
        var runner: Int32?
        #expect(await eventuallyAsync(timeout: 60) {
            runner = children(of: command.pid).first
            return runner.map { (try? String(contentsOfFile: "/proc/\($0)/status", encoding: .utf8))?.contains("NSpid:\t\($0)\t1") ?? false } ?? false
        })
        return (command, try #require(runner))
    }

    /// Starts `thermos run` as PID 1 of a new PID namespace (through `unshare --fork`).
    func launchAsPid1(_ config: String, taskID: String) -> BackgroundCommand {
        BackgroundCommand(
            ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc", TestPaths.builtBinary("thermos"), "run", "--root", fixture.root,
             "--sandbox", fixture.sandbox, "--task-id", taskID, config],
            environment: ["THERMOS_COORDINATOR": TestPaths.builtBinary("thermos-coordinator")],
            outputPrefix: fixture.directory.path + "/\(taskID)")
    }

    func inNamespace(of pid: Int32, _ arguments: [String]) -> CommandResult {
        CommandRunner.run(["/usr/bin/nsenter", "--target", String(pid), "--pid", "--mount", "--"] + arguments, timeout: 20)
    }

    @Test func reapsEveryOrphanSoZombiesNeverAccumulate() async throws {
        defer { fixture.remove() }
        // The task leaves 20 orphans that exit soon, waits for the test's go-ahead, then counts
        // zombies in its namespace.
        let config = fixture.config(#"""
            {"name": "orphans", "processes": [{"name": "p", "cmdline": "for i in $(seq 20); do (sleep 0.3 &); done; touch ready; while [ ! -e go ]; do sleep 0.1; done; awk '$1 == \"State:\" && $2 == \"Z\"' /proc/[0-9]*/status | wc -l > zombies"}]}
            """#)
        let (command, runner) = try await startAsPid1(config, taskID: "orphans")
        #expect(await eventuallyAsync(timeout: 60) { fixture.read("ready") != nil })
        // Orphans from outside the runner's tree (like `kubectl exec`): their parent dies at once.
        for _ in 0..<5 {
            #expect(inNamespace(of: runner, ["/bin/bash", "-c", "(sleep 0.3 &); exit 0"]).status == 0)
        }
        try await Task.sleep(for: .milliseconds(1200))
        let zombies = children(of: runner).filter { processState($0) == "Z" }
        #expect(zombies.isEmpty, "zombie children of PID 1: \(zombies)")
        _ = fixture.directory.write("sandbox/go", "")
        #expect(await command.waitAsync() == 0, "\(command.stderr)")
        #expect(fixture.read("zombies") == "0\n")
    }

    @Test(arguments: [("outside", SIGTERM), ("inside", SIGINT)])
    func terminationSignalGivesTheStagedKill(from: String, signal: Int32) async throws {
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "staged", "finalization_wait": 20, "processes": [
              {"name": "server", "cmdline": "trap 'sleep 1; echo cleaned > cleaned; exit 0' TERM; touch started; while true; do sleep 0.2; done"},
              {"name": "farewell", "cmdline": "echo final > final", "final": true}]}
            """#)
        let (command, runner) = try await startAsPid1(config, taskID: "staged")
        #expect(await eventuallyAsync(timeout: 60) { fixture.read("started") != nil })
        if from == "outside" {
            kill(runner, signal)
        } else {
            #expect(inNamespace(of: runner, ["/bin/kill", "-\(signal)", "1"]).status == 0)
        }
        #expect(await command.waitAsync() == 3, "KILLED; \(command.stderr)")
        #expect(fixture.read("cleaned") == "cleaned\n")
        #expect(fixture.read("final") == "final\n")
        #expect(fixture.taskStates("staged").suffix(3) == [.cleaning, .finalizing, .killed])
    }

    @Test func sigquitKillsAtOnce() async throws {
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "quit", "finalization_wait": 20, "processes": [
              {"name": "server", "cmdline": "trap 'sleep 10; echo cleaned > cleaned; exit 0' TERM; touch started; while true; do sleep 0.2; done"}]}
            """#)
        let (command, runner) = try await startAsPid1(config, taskID: "quit")
        #expect(await eventuallyAsync(timeout: 60) { fixture.read("started") != nil })
        let sent = monotonicNow()
        #expect(inNamespace(of: runner, ["/bin/kill", "-QUIT", "1"]).status == 0)
        #expect(await command.waitAsync() == 3, "KILLED; \(command.stderr)")
        #expect(monotonicNow() - sent < 8, "no 10 s clean-up")
        #expect(fixture.read("cleaned") == nil)
        #expect(fixture.taskStates("quit").last == .killed)
    }

    @Test(arguments: [("exit 0", Int32(0)), ("exit 9", Int32(1))])
    func exitCodeIsTheTasks(cmdline: String, expected: Int32) async throws {
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "code", "processes": [{"name": "p", "cmdline": "cat /proc/1/comm > pid1; \#(cmdline)"}]}"#)
        let command = launchAsPid1(config, taskID: "code")
        #expect(await command.waitAsync() == expected, "\(command.stderr)")
        #expect(fixture.read("pid1") == "thermos\n", "the runner is PID 1 of the namespace")
    }
}

/// Root and util-linux's unshare/nsenter.
let pid1TestsAvailable: Bool = geteuid() == 0 && ["/usr/bin/unshare", "/usr/bin/nsenter"].allSatisfy { (path: String) in access(path, X_OK) == 0 }

/// The children of `pid` (`/proc/PID/task/*/children`).
func children(of pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.flatMap { task in
        (readBytes("/proc/\(pid)/task/\(task)/children").map { String(decoding: $0, as: UTF8.self) } ?? "")
            .split(separator: " ").compactMap { Int32($0) }
    }
}

/// The one-letter state of `pid` from /proc/PID/stat (nil when gone).
func processState(_ pid: Int32) -> String? {
    guard let stat = readBytes("/proc/\(pid)/stat") else { return nil }
    let text = String(decoding: stat, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(close, offsetBy: 2)...].split(separator: " ").first.map(String.init)
}
