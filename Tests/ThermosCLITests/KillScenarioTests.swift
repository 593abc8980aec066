import OrderedCollections
import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Killing processes, coordinators and runners (reference §6.14, §3.6, §3.12, §6.23 items 9–12).
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct KillScenarioTests {
    @Test func killedProcessIsRecordedKilledAndRunAgain() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "k", "processes": [{"name": "process", "cmdline": "sleep 2", "min_duration": 1}]}"#)
        let runner = fixture.start(config, taskID: "k")
        let first = try #require(fixture.waitForRunning("k", "process"))
        kill(first.pid!, SIGKILL)
        #expect(runner.wait() == 0)
        let runs = fixture.runs("k", "process")
        #expect(runs.map(\.state) == [.killed, .success])
        #expect(runs.first?.returnCode == -9)
        #expect(runs[1].forkTime! - runs[0].stopTime! >= 0.99, "the rerun waits out min_duration")
    }

    @Test func killedCoordinatorIsLostWithinMillisecondsAndRunAgain() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "c", "processes": [{"name": "process", "cmdline": "sleep 2", "min_duration": 0}]}"#)
        let runner = fixture.start(config, taskID: "c")
        let first = try #require(fixture.waitForRunning("c", "process"))
        kill(first.coordinatorPid!, SIGKILL)
        let killedAt = wallClock()
        #expect(eventually(timeout: 5) { fixture.runs("c", "process").first?.state == .lost })
        #expect(wallClock() - killedAt < 2, "LOST must not take the original's 30 s")
        #expect(runner.wait() == 0)
        #expect(fixture.runs("c", "process").map(\.state) == [.lost, .success])
        #expect(!isAlive(first.pid!), "the orphaned command of the lost run is killed")
    }

    @Test func sigtermToRunStagesTheKillAndRunsFinalizers() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "staged", "processes": [{"name": "main", "cmdline": "sleep 30"},
              {"name": "finalizer", "cmdline": "touch finalized", "final": true}]}
            """#)
        let runner = fixture.start(config, taskID: "staged")
        _ = try #require(fixture.waitForRunning("staged", "main"))
        runner.signal(SIGTERM)
        #expect(runner.wait() == 3)
        #expect(fixture.taskStates("staged") == [.active, .active, .cleaning, .finalizing, .killed])
        let main = fixture.runs("staged", "main")
        #expect(main.map(\.state) == [.killed] && main.first?.returnCode == -15)
        #expect(fixture.runs("staged", "finalizer").map(\.state) == [.success])
        #expect(fixture.read("finalized") != nil)
        #expect(fixture.taskFileExists("staged", .finished))
    }

    @Test func processIgnoringSIGTERMIsKilledAtThePreemptionDeadline() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "ignorant", "processes": [{"name": "p", "cmdline": "trap '' TERM; sleep 60 & wait"}]}"#)
        let runner = fixture.start(config, taskID: "ig", ["--preemption-wait", "1"])
        let run = try #require(fixture.waitForRunning("ig", "p"))
        let start = wallClock()
        runner.signal(SIGINT)
        #expect(runner.wait() == 3)
        #expect(wallClock() - start < 10)
        #expect(fixture.taskStates("ig") == [.active, .active, .cleaning, .killed])
        #expect(fixture.runs("ig", "p").last?.state == .killed)
        #expect(eventually(timeout: 5) { !isAlive(run.pid!) })
    }

    @Test func executorRunnerKillsOnSIGUSR1AndLosesOnSIGUSR2() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let task = fixture.config(#"{"name": "r", "processes": [{"name": "sleep", "cmdline": "sleep 60"}]}"#)
        for (taskID, signal, expected) in [("usr1", SIGUSR1, TaskState.killed), ("usr2", SIGUSR2, .lost)] {
            let runner = BackgroundCommand(
                [TestPaths.builtBinary("thermos"), "runner", "--thermos_json", task, "--sandbox", fixture.sandbox + "/" + taskID,
                 "--checkpoint_root", fixture.root, "--task_id", taskID],
                outputPrefix: fixture.directory.path + "/" + taskID)
            let run = try #require(fixture.waitForRunning(taskID, "sleep"))
            runner.signal(signal)
            #expect(runner.wait() == 0)
            #expect(fixture.taskStates(taskID).last == expected)
            let last = fixture.runs(taskID, "sleep").last
            #expect(last?.state == .killed)
            // Losing does not wait: the run is recorded KILLED by the runner (-1) unless its
            // coordinator recorded the SIGTERM of CLEANING first (-15).
            #expect(expected == .lost ? [-1, -15].contains(last?.returnCode) : last?.returnCode == -15)
            #expect(eventually(timeout: 5) { !isAlive(run.pid!) })
        }
        #expect(fixture.taskStates("usr2") == [.active, .active, .cleaning, .lost])
    }

    @Test func executorRunnerExitCodes() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let ok = fixture.config(#"{"name": "ok", "processes": [{"name": "p", "cmdline": "true"}]}"#, name: "ok.json")
        let ports = fixture.config(#"{"name": "ports", "processes": [{"name": "p", "cmdline": "echo {{thermos.ports[http]}}"}]}"#, name: "ports.json")
        let invalid = fixture.config(#"{"name": "bad", "processes": [{"name": "p"}]}"#, name: "bad.json")
        func runner(_ json: String, _ taskID: String, _ extra: [String] = []) -> Int32 {
            thermos(["runner", "--thermos-json", json, "--sandbox", fixture.sandbox, "--checkpoint-root", fixture.root, "--task-id", taskID] + extra).status
        }
        #expect(runner(ok, "ok") == 0)
        #expect(fixture.taskStates("ok").last == .success)
        #expect(runner(ok, "ok") == 0, "a finished task is a no-op")
        #expect(runner(ok, "nouser", ["--setuid", "nosuchuser"]) == 104)
        #expect(runner(ports, "ports") == 101)
        #expect(runner(invalid, "bad") == 102)
    }

    @Test func thermosKillSigkillsTheRunnerAndEveryProcess() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "sleepd", "processes": [{"name": "sleep", "cmdline": "sleep 60"}, {"name": "later", "cmdline": "true"}], "constraints": [{"order": ["sleep", "later"]}]}"#)
        let daemon = fixture.run(config, taskID: "sleepd", ["--daemon"])
        #expect(daemon.status == 0)
        #expect(daemon.stdout == "sleepd\n")
        let run = try #require(fixture.waitForRunning("sleepd", "sleep"))
        let runnerPid = try #require(fixture.state("sleepd").statuses.last?.runnerPid)
        let result = thermos(["kill", "--now", "--root", fixture.root, "sleep"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Killing sleepd...done.\n")
        #expect(result.stderr.contains("Found existing runner, forcing leadership forfeit."))
        let statuses = fixture.state("sleepd").statuses
        #expect(statuses.map(\.state) == [.active, .active, .killed])
        #expect(statuses[1].runnerPid != runnerPid, "the killer records its own pid")
        #expect(fixture.processRecords("sleepd", "sleep").suffix(2) == ["2 RUNNING", "3 KILLED"])
        #expect(fixture.runs("sleepd", "sleep").last?.returnCode == -9)
        #expect(fixture.state("sleepd").processes["later"] == nil)
        #expect(eventually(timeout: 5) { !isAlive(runnerPid) && !isAlive(run.pid!) && !isAlive(run.coordinatorPid!) })
        #expect(fixture.taskFileExists("sleepd", .finished))
        #expect(thermos(["kill", "--root", fixture.root, "sleepd"]).stderr.contains("No active tasks matched."))
    }

    @Test func killIsAStagedKillByTheLiveRunnerByDefault() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "g", "processes": [{"name": "p", "cmdline": "sleep 60"}, {"name": "fin", "cmdline": "touch fin.$(date +%s%N)", "final": true}]}"#)
        // The live runner does the staged kill: CLEANING, FINALIZING (fin runs), KILLED.
        let runner = fixture.start(config, taskID: "live")
        _ = try #require(fixture.waitForRunning("live", "p"))
        #expect(thermos(["kill", "--root", fixture.root, "live"]).status == 0)
        #expect(fixture.taskStates("live").suffix(3) == [.cleaning, .finalizing, .killed])
        #expect(fixture.runs("live", "p").last?.returnCode == -15)
        #expect(fixture.runs("live", "fin").last?.state == .success)
        runner.wait()
        #expect(runner.stderr.split(separator: "\n").last?.hasSuffix("runner] Task KILLED: kill requested (thermos kill)") == true, "\(runner.stderr)")
        // --now: SIGKILL at once, the final process never runs.
        let immediate = fixture.start(config, taskID: "now")
        _ = try #require(fixture.waitForRunning("now", "p"))
        #expect(thermos(["kill", "--now", "--root", fixture.root, "now"]).status == 0)
        #expect(fixture.runs("now", "p").last?.returnCode == -9)
        #expect(fixture.runs("now", "fin").isEmpty)
        immediate.wait()
        // No live runner: the immediate kill by the recorded state (KillPolicy).
        let orphaned = fixture.start(config, taskID: "dead")
        let run = try #require(fixture.waitForRunning("dead", "p"))
        orphaned.signal(SIGKILL)
        orphaned.wait()
        let result = thermos(["kill", "--root", fixture.root, "dead"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.taskStates("dead").last == .killed)
        #expect(fixture.runs("dead", "p").last?.returnCode == -9)
        #expect(eventually(timeout: 5) { !isAlive(run.pid!) })
    }

    @Test func preemptionWaitBoundsAStagedKill() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "w", "finalization_wait": 120, "processes": [{"name": "stubborn", "cmdline": "trap '' TERM; sleep 100"}]}"#)
        let runner = fixture.start(config, taskID: "w")
        let run = try #require(fixture.waitForRunning("w", "stubborn"))
        let began = wallClock()
        #expect(thermos(["kill", "--root", fixture.root, "--preemption-wait", "1", "w"]).status == 0)
        #expect(wallClock() - began < 10, "the kill took \(wallClock() - began) s")
        #expect(fixture.taskStates("w").last == .killed)
        #expect(fixture.runs("w", "stubborn").last?.state == .killed)
        #expect(eventually(timeout: 5) { !isAlive(run.pid!) })
        runner.wait()
    }

    @Test func nothingOfATaskOutlivesIt() throws {
        // test_pg_is_killed, plus a double-forked child in its own session.
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "pg", "processes": [{"name": "p", "cmdline": "sleep 60 & echo $! > child.pid; setsid sleep 61 & echo $! > session.pid; while [ ! -e exit.txt ]; do sleep 0.05; done"}]}
            """#)
        let runner = fixture.start(config, taskID: "pg")
        _ = try #require(fixture.waitForRunning("pg", "p"))
        #expect(eventually { fixture.read("session.pid") != nil })
        fixture.directory.write("sandbox/exit.txt", "")
        #expect(runner.wait() == 0)
        #expect(fixture.runs("pg", "p").last?.state == .success)
        for file in ["child.pid", "session.pid"] {
            let pid = Int32(fixture.read(file)?.split(separator: "\n").first ?? "") ?? 0
            #expect(pid > 0 && eventually(timeout: 5) { !isAlive(pid) }, "\(file) must be gone")
        }
    }
}

/// Seconds since the epoch.
func wallClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

extension KillScenarioTests {
    @Test func killingATaskWhoseProcessesAreAllGoneRecordsThemLost() throws {
        // test_coordinator_dead_kill: runner, coordinator and command are SIGKILLed, then `thermos kill`.
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "dead", "finalization_wait": 3, "processes": [{"name": "ignorant_process", "cmdline": "trap '' TERM; sleep 1000", "min_duration": 1}]}"#)
        let runner = fixture.start(config, taskID: "dead")
        let run = try #require(fixture.waitForRunning("dead", "ignorant_process"))
        runner.signal(SIGKILL)
        runner.wait()
        kill(run.coordinatorPid!, SIGKILL)
        kill(run.pid!, SIGKILL)
        #expect(eventually(timeout: 5) { !isAlive(run.pid!) && !isAlive(run.coordinatorPid!) })
        #expect(thermos(["kill", "--root", fixture.root, "dead"]).status == 0)
        #expect(fixture.runs("dead", "ignorant_process").map(\.state) == [.lost])
        #expect(fixture.taskStates("dead") == [.active, .active, .killed])
        #expect(fixture.taskFileExists("dead", .finished))
    }
}
