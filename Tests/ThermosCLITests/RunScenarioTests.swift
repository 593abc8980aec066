import OrderedCollections
import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos run` through the real binaries on a temp root: the catalogue of reference §6.5–6.11
/// and §6.23, checked in the runner checkpoint.
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct RunScenarioTests {
    @Test func helloWorldWritesTheOriginalRecordSequence() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "hello_world", "processes": [{"name": "hello", "cmdline": "echo hello world"}]}"#)
        let result = fixture.run(config, taskID: "hello")
        #expect(result.status == 0, "\(result.stderr)")
        let records = fixture.records("hello")
        guard records.count == 9 else {
            Issue.record("expected 9 records, got \(records)")
            return
        }
        guard case .taskStatus(let first) = records[0], case .runnerHeader(let header) = records[1] else {
            Issue.record("stream must start with ACTIVE then the header: \(records)")
            return
        }
        #expect(first.state == .active)
        #expect(header.taskID == "hello" && header.sandbox == fixture.sandbox && header.logDir == fixture.sandbox + "/.logs")
        #expect(header.uid == Int32(bitPattern: getuid()) && header.hostname?.isEmpty == false && header.ports == [:])
        #expect(fixture.processRecords("hello", "hello") == ["0 WAITING", "1 FORKED", "2 RUNNING", "3 SUCCESS"])
        #expect(fixture.taskStates("hello") == [.active, .cleaning, .finalizing, .success])
        #expect(fixture.read(".logs/hello/0/stdout") == "hello world\n")
        #expect(fixture.read(".logs/hello/0/stderr") == "")
        #expect(fixture.taskFileExists("hello", .finished) && !fixture.taskFileExists("hello", .active))
        // The coordinator stream holds FORKED, RUNNING and the end (seq 1–3).
        let coordinator = try CheckpointReader.read(path: TaskPath.processCheckpoint(root: fixture.root, taskID: "hello", process: "hello"))
        #expect(coordinator.records.count == 3)
        let run = try #require(fixture.runs("hello", "hello").last)
        #expect(run.returnCode == 0 && run.forkTime! <= run.startTime! && run.startTime! <= run.stopTime!)
        // The stored task is Aurora task JSON, interpolated.
        let stored = String(decoding: readBytes(TaskPath.taskFile(root: fixture.root, taskID: "hello", state: .finished)) ?? [], as: UTF8.self)
        #expect(stored.contains("\"cmdline\":\"echo hello world\"") || stored.contains("\"cmdline\": \"echo hello world\""))
    }

    @Test func pythonReaderDecodesWhatTheRunnerWrote() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "t", "processes": [{"name": "p", "cmdline": "echo hi"}]}"#)
        #expect(fixture.run(config, taskID: "py", ["-P", "http:8080"]).status == 0)
        for file in ["runner", "coordinator.p"] {
            let result = CommandRunner.run(["python3", TestPaths.pythonReader, "\(fixture.root)/checkpoints/py/\(file)"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == (file == "runner" ? 9 : 3))
        }
        let runner = CommandRunner.run(["python3", TestPaths.pythonReader, "\(fixture.root)/checkpoints/py/runner"]).stdout
        #expect(runner.contains("\"ports\": {\"http\": 8080}"))
    }

    @Test func failingProcessesAreRetriedUntilMaxFailures() {
        // The `pingping` template: pK fails K-1 times, then succeeds (reference §5.5, §6.7).
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        func process(_ k: Int) -> String {
            #"{"name": "p\#(k)", "cmdline": "n=$(cat p\#(k).count 2>/dev/null || echo 0); echo $((n+1)) > p\#(k).count; [ $((n+1)) -ge \#(k) ]", "max_failures": \#(k), "min_duration": 1}"#
        }
        let config = fixture.config(#"{"name": "failure", "processes": [\#(process(1)), \#(process(2)), \#(process(3))]}"#)
        let result = fixture.run(config, taskID: "failure")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.taskStates("failure").last == .success)
        for k in 1...3 {
            let runs = fixture.runs("failure", "p\(k)")
            #expect(runs.count == k)
            #expect(runs.dropLast().allSatisfy { $0.state == .failed && $0.returnCode == 1 })
            #expect(runs.last?.state == .success)
            // Retries wait out min_duration (1 s) after the failure.
            for (failed, next) in zip(runs, runs.dropFirst()) {
                #expect(next.forkTime! - failed.stopTime! >= 0.99)
            }
        }
        #expect(fixture.processRecords("failure", "p2") == [
            "0 WAITING", "1 FORKED", "2 RUNNING", "3 FAILED", "4 WAITING", "5 FORKED", "6 RUNNING", "7 SUCCESS",
        ])
    }

    @Test func failureLimitDeadlocksDependentsAndFailsTheTask() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "failing_task", "max_failures": 2, "processes": [
              {"name": "a", "cmdline": "echo hello world", "min_duration": 1},
              {"name": "b", "cmdline": "exit 1", "min_duration": 1},
              {"name": "c", "cmdline": "echo hello world", "min_duration": 1}],
             "constraints": [{"order": ["a", "b", "c"]}]}
            """#)
        let result = fixture.run(config, taskID: "limit")
        #expect(result.status == 1)
        #expect(fixture.taskStates("limit") == [.active, .cleaning, .finalizing, .failed])
        #expect(fixture.runs("limit", "a").map(\.state) == [.success])
        #expect(fixture.runs("limit", "b").map(\.state) == [.failed])
        #expect(fixture.state("limit").processes["c"] == nil)
    }

    @Test func maxFailuresZeroNeverFailsTheTask() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let failing = (1...3).map { #"{"name": "f\#($0)", "cmdline": "exit 1", "max_failures": 2, "min_duration": 1}"# }
        let succeeding = (1...3).map { #"{"name": "s\#($0)", "cmdline": "echo hello world", "max_failures": 2, "min_duration": 1}"# }
        let config = fixture.config(#"{"name": "mf0", "max_failures": 0, "processes": [\#((failing + succeeding).joined(separator: ","))]}"#)
        #expect(fixture.run(config, taskID: "mf0").status == 0)
        for k in 1...3 {
            #expect(fixture.runs("mf0", "f\(k)").map(\.state) == [.failed, .failed])
            #expect(fixture.runs("mf0", "s\(k)").map(\.state) == [.success])
        }
    }

    @Test func ephemeralProcessIsTerminatedInCleaning() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "task_with_ephemeral", "processes": [
              {"name": "ephemeral_sleepy", "cmdline": "sleep 10", "ephemeral": true},
              {"name": "sleepy", "cmdline": "sleep 1"}]}
            """#)
        #expect(fixture.run(config, taskID: "eph").status == 0)
        #expect(fixture.taskStates("eph").last == .success)
        #expect(fixture.runs("eph", "sleepy").map(\.state) == [.success])
        let ephemeral = fixture.runs("eph", "ephemeral_sleepy")
        #expect(ephemeral.map(\.state) == [.killed])
        #expect(ephemeral.first?.returnCode == -15)
        // CLEANING comes before the ephemeral's KILLED record, FINALIZING after it.
        let sequence = fixture.records("eph").compactMap { record -> String? in
            switch record {
            case .taskStatus(let status): return status.state?.name
            case .processStatus(let status) where status.process == "ephemeral_sleepy" && status.state == .killed: return "EPHEMERAL KILLED"
            default: return nil
            }
        }
        #expect(sequence == ["ACTIVE", "CLEANING", "EPHEMERAL KILLED", "FINALIZING", "SUCCESS"])
    }

    @Test(arguments: [
        // (config, expected task state, expected runs per process; "-" = never ran)
        (#"[{"name": "main", "cmdline": "date && echo hello world"}, {"name": "finalizer", "cmdline": "date", "final": true}]"#, "", TaskState.success, ["main": "S", "finalizer": "S"]),
        (#"[{"name": "main", "cmdline": "date"}, {"name": "finalizer1", "cmdline": "date", "final": true}, {"name": "finalizer2", "cmdline": "date", "final": true}]"#, #"[{"order": ["finalizer1", "finalizer2"]}]"#, .success, ["main": "S", "finalizer1": "S", "finalizer2": "S"]),
        (#"[{"name": "main", "cmdline": "date"}, {"name": "finalizer1", "cmdline": "exit 1", "final": true}, {"name": "finalizer2", "cmdline": "date", "final": true}]"#, #"[{"order": ["finalizer1", "finalizer2"]}]"#, .success, ["main": "S", "finalizer1": "F", "finalizer2": "-"]),
        (#"[{"name": "main", "cmdline": "echo hello world"}, {"name": "finalizer1", "cmdline": "exit 1", "final": true, "max_failures": 2, "min_duration": 0}, {"name": "finalizer2", "cmdline": "date", "final": true}]"#, "", .success, ["main": "S", "finalizer1": "FF", "finalizer2": "S"]),
        (#"[{"name": "main", "cmdline": "exit 1"}, {"name": "finalizer", "cmdline": "date", "final": true}]"#, "", .failed, ["main": "F", "finalizer": "S"]),
    ] as [(String, String, TaskState, [String: String])])
    func finalization(processes: String, constraints: String, expected: TaskState, runs: [String: String]) {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let order = constraints.isEmpty ? "" : #", "constraints": \#(constraints)"#
        let config = fixture.config(#"{"name": "fin", "processes": \#(processes)\#(order)}"#)
        let result = fixture.run(config, taskID: "fin")
        #expect(result.status == (expected == .success ? 0 : 1), "\(result.stderr)")
        #expect(fixture.taskStates("fin") == [.active, .cleaning, .finalizing, expected])
        for (name, letters) in runs {
            let states = fixture.runs("fin", name).map { $0.state == .success ? "S" : $0.state == .failed ? "F" : "?" }.joined()
            #expect(states == (letters == "-" ? "" : letters), "process \(name)")
        }
        // Finalizers run after the regular plan, in their order.
        let state = fixture.state("fin")
        if let main = state.processes["main"]?.last, let first = state.processes["finalizer1"]?.last ?? state.processes["finalizer"]?.last {
            #expect(main.stopTime! <= first.startTime!)
        }
        if let first = state.processes["finalizer1"]?.last, let second = state.processes["finalizer2"]?.last, constraints.contains("order") {
            #expect(first.stopTime! <= second.startTime!)
        }
    }

    @Test func exhaustedFinalizationBudgetSkipsFinalizingAndKillsStragglers() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "budget", "finalization_wait": 1, "processes": [
              {"name": "main", "cmdline": "while [ ! -s child.pid ]; do sleep 0.01; done"},
              {"name": "stubborn", "cmdline": "trap '' TERM; (trap '' TERM; sleep 60) & echo $! > child.pid; wait", "ephemeral": true},
              {"name": "finalizer", "cmdline": "touch finalized", "final": true}]}
            """#)
        #expect(fixture.run(config, taskID: "budget").status == 0)
        #expect(fixture.taskStates("budget") == [.active, .cleaning, .success])
        let stubborn = fixture.runs("budget", "stubborn")
        #expect(stubborn.map(\.state) == [.killed])
        #expect(stubborn.last?.returnCode == -1)
        #expect(fixture.state("budget").processes["finalizer"] == nil)
        #expect(fixture.read("finalized") == nil)
        let child = Int32(fixture.read("child.pid")?.split(separator: "\n").first ?? "") ?? 0
        #expect(child > 0 && eventually(timeout: 5) { !isAlive(child) })
    }

    @Test func orderingConstraintsAndPortsAreHonoured() {
        // TestRunnerBasic: three waves, a named port in the first process.
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "basic", "processes": [
              {"name": "t1", "cmdline": "echo 1 port {{thermos.ports[named_port]}} > t1.out"},
              {"name": "t2", "cmdline": "echo 1"}, {"name": "t3", "cmdline": "echo 1"}, {"name": "t4", "cmdline": "echo 1"},
              {"name": "t5", "cmdline": "echo 1"}, {"name": "t6", "cmdline": "echo 1"}],
             "constraints": [{"order": ["t1", "t3"]}, {"order": ["t1", "t4"]}, {"order": ["t2", "t3"]}, {"order": ["t2", "t4"]},
                             {"order": ["t3", "t5"]}, {"order": ["t3", "t6"]}, {"order": ["t4", "t5"]}, {"order": ["t4", "t6"]}]}
            """#)
        #expect(fixture.run(config, taskID: "basic", ["-P", "named_port:8123"]).status == 0)
        let state = fixture.state("basic")
        #expect(state.header?.ports?["named_port"] == 8123)
        #expect(Set(state.processes.keys) == ["t1", "t2", "t3", "t4", "t5", "t6"])
        #expect(fixture.read("t1.out") == "1 port 8123\n")
        func run(_ name: String) -> ProcessStatus { state.processes[name]!.last! }
        for (before, after) in [("t1", "t3"), ("t1", "t4"), ("t2", "t3"), ("t2", "t4"), ("t3", "t5"), ("t3", "t6"), ("t4", "t5"), ("t4", "t6")] {
            #expect(run(before).stopTime! <= run(after).startTime!, "\(before) before \(after)")
        }
        for runs in state.processes.values {
            #expect(runs.count == 1 && runs[0].state == .success)
            #expect(runs[0].forkTime! < runs[0].startTime! && runs[0].startTime! < runs[0].stopTime!)
        }
    }

    @Test func missingPortsAreReportedByNameAndNothingIsWritten() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "ports", "processes": [{"name": "echo", "cmdline": "echo {{thermos.ports[hello]}} {{thermos.ports[world]}}"}]}"#)
        let result = fixture.run(config, taskID: "ports", ["-P", "world:1"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("Unbound ports: hello"))
        #expect(access(fixture.root + "/checkpoints/ports", F_OK) != 0)
    }

    @Test func bindingsAreAppliedAndMissingOnesRejected() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "bind", "processes": [{"name": "p", "cmdline": "echo hello {{first}} > out"}]}"#)
        let missing = fixture.run(config, taskID: "unbound")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("{{first}}"))
        #expect(access(fixture.root + "/checkpoints/unbound", F_OK) != 0)
        #expect(fixture.run(config, taskID: "bound", ["-E", "first=brian"]).status == 0)
        #expect(fixture.read("out") == "hello brian\n")
    }

    @Test func maxConcurrencyRunsOneAtATime() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "conc", "max_concurrency": 1, "processes": [
              {"name": "process1", "cmdline": "sleep 1"}, {"name": "process2", "cmdline": "sleep 1"},
              {"name": "process3", "cmdline": "sleep 1"}]}
            """#)
        #expect(fixture.run(config, taskID: "conc").status == 0)
        let starts = fixture.state("conc").processes.values.compactMap { $0.last?.startTime }.sorted()
        #expect(starts.count == 3)
        for (a, b) in zip(starts, starts.dropFirst()) { #expect(b - a > 1.0) }
    }

    @Test func thermosProfileIsSourcedThroughBashEnv() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "env", "processes": [
              {"name": "setup", "cmdline": "echo 'export FOO=1' > .thermos_profile && echo 'export BAR=2' >> .thermos_profile"},
              {"name": "use", "cmdline": "echo $FOO $BAR > expected_output.txt; env > env.txt"}],
             "constraints": [{"order": ["setup", "use"]}]}
            """#)
        #expect(fixture.run(config, taskID: "env").status == 0)
        #expect(fixture.read("expected_output.txt") == "1 2\n")
        let environment = fixture.read("env.txt") ?? ""
        #expect(environment.contains("HOME=\(fixture.sandbox)\n") && environment.contains("BASH_ENV=\(fixture.sandbox)/.thermos_profile"))
        #expect(!environment.contains("TZ=UTC"), "the environment is scrubbed without --preserve-env")
    }

    @Test func preserveEnvPassesTheRunnersEnvironment() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "env", "processes": [{"name": "p", "cmdline": "echo \"[$TEST_VAR]\" > out"}]}"#)
        #expect(fixture.run(config, taskID: "scrubbed", environment: ["TEST_VAR": "A_TEST_VAR"]).status == 0)
        #expect(fixture.read("out") == "[]\n")
        #expect(fixture.run(config, taskID: "preserved", ["--preserve-env"], environment: ["TEST_VAR": "A_TEST_VAR"]).status == 0)
        #expect(fixture.read("out") == "[A_TEST_VAR]\n")
    }

    @Test func rerunningAFinishedTaskIsANoOp() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "once", "processes": [{"name": "p", "cmdline": "echo ran >> runs"}]}"#)
        #expect(fixture.run(config, taskID: "once").status == 0)
        let before = fixture.records("once").count
        let again = fixture.run(config, taskID: "once")
        #expect(again.status == 0)
        #expect(again.stderr.contains("already finished: SUCCESS"))
        #expect(fixture.records("once").count == before)
        #expect(fixture.read("runs") == "ran\n")
    }

    @Test func aSecondRunnerOnALiveTaskFailsAndChangesNothing() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "busy", "processes": [{"name": "p", "cmdline": "sleep 2"}]}"#)
        let first = fixture.start(config, taskID: "busy")
        #expect(fixture.waitForRunning("busy", "p") != nil)
        let before = fixture.records("busy")
        let second = fixture.run(config, taskID: "busy")
        #expect(second.status == 5)
        #expect(second.stderr.contains("Found existing runner, cannot take control"))
        #expect(fixture.records("busy") == before)
        #expect(first.wait() == 0)
    }

    @Test func simplerunRunsACommandLineInATemporarySandbox() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let result = thermos(["simplerun", "--root", fixture.root, "--task-id", "simple1", "--", "echo", "hello", "world"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Running command: 'echo hello world'"))
        let state = fixture.state("simple1")
        #expect(state.processes["simple"]?.last?.state == .success)
        let sandbox = state.header?.sandbox ?? ""
        #expect(!sandbox.isEmpty)
        #expect(result.stdout.contains("simple | hello world"))
        #expect(access(sandbox, F_OK) != 0, "the temporary sandbox is removed once the task ends")
        let failing = thermos(["simplerun", "--root", fixture.root, "--task-id", "simple2", "--sandbox", fixture.sandbox, "--", "exit 3"])
        #expect(failing.status == 1)
    }
}

extension RunScenarioTests {
    @Test func simplerunDaemonDetachesAndKeepsTheCommandLine() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let result = thermos(["simplerun", "--root", fixture.root, "--sandbox", fixture.sandbox, "--daemon", "--", "echo", "--daemon", "x"])
        #expect(result.status == 0, "\(result.stderr)")
        let taskID = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(taskID.hasPrefix("simple-"))
        #expect(eventually { fixture.taskFileExists(taskID, .finished) })
        #expect(fixture.read(".logs/simple/0/stdout") == "--daemon x\n")
    }
}

extension RunScenarioTests {
    @Test func flakyTaskSucceedsUnderItsFailureLimit() {
        // test_angry: b fails twice (one failed process < task max_failures 2), c is a finalizer.
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "failing_task", "max_failures": 2, "processes": [
              {"name": "a", "cmdline": "echo hello world", "max_failures": 1, "min_duration": 1},
              {"name": "b", "cmdline": "exit 1", "max_failures": 2, "min_duration": 1},
              {"name": "c", "cmdline": "echo hello world", "max_failures": 1, "min_duration": 1, "final": true}],
             "constraints": [{"order": ["a", "b"]}]}
            """#)
        #expect(fixture.run(config, taskID: "angry").status == 0)
        #expect(fixture.runs("angry", "a").map(\.state) == [.success])
        #expect(fixture.runs("angry", "b").map(\.state) == [.failed, .failed])
        #expect(fixture.runs("angry", "c").map(\.state) == [.success])
        #expect(fixture.taskStates("angry") == [.active, .cleaning, .finalizing, .success])
    }
}
