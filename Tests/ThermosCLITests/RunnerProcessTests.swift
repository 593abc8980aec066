import Glibc
import Testing
import ThermosCheckpoint
import ThermosPlatform
import ThermosTestSupport

/// `thermos run` becomes the lean `thermos-runner` by `exec`: the pid the user started is the
/// runner (it records itself, its coordinators are its children), and that process maps no
/// Foundation; the runner refuses a command line or task hand-over it does not understand.
@Suite(.timeLimit(.minutes(2)))
struct RunnerProcessTests {
    let fixture = RunnerFixture()

    @Test func thePidOfThermosRunIsTheRunnerAndItMapsNoFoundation() throws {
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "lean", "processes": [{"name": "p", "cmdline": "touch started; while [ ! -e go ]; do sleep 0.05; done"}]}
            """#)
        let command = fixture.start(config, taskID: "lean")
        let run = try #require(fixture.waitForRunning("lean", "p", timeout: 60), "\(command.stderr)")
        #expect(eventually { fixture.read("started") != nil })

        // exec, not a child: the process we started is now thermos-runner, under the user's name.
        #expect(Self.link("/proc/\(command.pid)/exe").hasSuffix("/thermos-runner"), "\(Self.link("/proc/\(command.pid)/exe"))")
        #expect(Self.text("/proc/\(command.pid)/comm") == "thermos\n")
        let maps = Self.text("/proc/\(command.pid)/maps")
        #expect(maps.contains("thermos-runner"), "the maps were read")
        #expect(!maps.contains("Foundation"), "the runner maps Foundation:\n\(maps.split(separator: "\n").filter { $0.contains("Foundation") }.joined(separator: "\n"))")
        #expect(!maps.contains("libicu") && !maps.contains("FoundationICU"))

        // It is the runner: it recorded itself, and its coordinator is its child.
        let runnerPids = fixture.records("lean").compactMap { if case .taskStatus(let status) = $0 { status.runnerPid } else { nil } }
        #expect(!runnerPids.isEmpty && runnerPids.allSatisfy { $0 == command.pid }, "\(runnerPids) vs \(command.pid)")
        let coordinator = try #require(run.coordinatorPid)
        #expect(ProcessTable.entry(coordinator)?.parentPid == command.pid)

        _ = fixture.directory.write("sandbox/go", "")
        #expect(command.wait(timeout: 60) == 0, "\(command.stderr)")
        #expect(fixture.taskStates("lean").last == .success)
    }

    /// The built runner needs no Foundation (ldd lists every shared library it would load),
    /// while `thermos` does (the check sees Foundation where it is).
    @Test func theBuiltRunnerLinksNoFoundation() {
        let runner = CommandRunner.run(["/usr/bin/ldd", TestPaths.builtBinary("thermos-runner")])
        #expect(runner.status == 0 || runner.stdout.contains("not a dynamic executable") || runner.stderr.contains("not a dynamic executable"), "\(runner.stderr)")
        #expect(!runner.stdout.contains("Foundation") && !runner.stdout.contains("Yams"), "\(runner.stdout)")
        let cli = CommandRunner.run(["/usr/bin/ldd", TestPaths.builtBinary("thermos")])
        if cli.status == 0 && !cli.stdout.contains("not a dynamic executable") {
            #expect(cli.stdout.contains("Foundation"), "the check would see Foundation: \(cli.stdout)")
        }
    }

    @Test func aCommandLineTheRunnerDoesNotKnowIsRefused() {
        let result = CommandRunner.run([TestPaths.builtBinary("thermos-runner"), "--task-fd", "0", "--bogus"])
        #expect(result.status == 2)
        #expect(result.stderr == "thermos-runner: unknown flag --bogus (it is started by thermos run, simplerun or runner)\n", "\(result.stderr)")
    }

    @Test func aTaskDescriptorThatIsNotASealedHandoverIsRefused() {
        defer { fixture.remove() }
        // stdin (/dev/null) as the task: not a sealed memfd.
        let arguments = [
            "--task-fd", "0", "--task-id", "t", "--root", fixture.root, "--sandbox", fixture.sandbox, "--log-dir", fixture.sandbox + "/.logs",
            "--user", "root", "--hostname", "h", "--launch-time", "1", "--preemption-wait", "1", "--exit-codes", "run",
        ]
        let result = CommandRunner.run([TestPaths.builtBinary("thermos-runner")] + arguments)
        #expect(result.status == 5)
        #expect(result.stderr.contains("--task-fd 0 is not a sealed task hand-over"), "\(result.stderr)")
        #expect(access(fixture.root, F_OK) != 0, "nothing was written")
    }

    static func text(_ path: String) -> String {
        String(decoding: readBytes(path) ?? [], as: UTF8.self)
    }

    static func link(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }
}
