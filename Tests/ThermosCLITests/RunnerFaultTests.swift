import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Regressions of the faults a kill -9 storm, a host crash and a full disk found (issue 12).
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct RunnerFaultTests {
    static let chain = #"""
        {"name": "chain", "processes": [
          {"name": "a", "cmdline": "echo a >> runs.a"},
          {"name": "b", "cmdline": "echo b >> runs.b"}],
         "constraints": [{"order": ["a", "b"]}]}
        """#

    // Item 1: the flock outlives a SIGKILLed runner for a moment, held by a child of it that has
    // not yet closed its inherited copy. A re-run must wait for it, not refuse.
    @Test func reRunWaitsForALockHeldAfterItsRunnerDied() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        #expect(fixture.run(config, taskID: "chain", environment: ["THERMOS_CRASH_AT": "after-end:a"]).status == 128 + SIGKILL)
        let recorded = try #require(fixture.state("chain").statuses.last?.runnerPid)
        #expect(!isAlive(recorded))
        // What the half-born child does: hold the lock of the dead runner for a moment.
        let path = TaskPath.runnerCheckpoint(root: fixture.root, taskID: "chain")
        let holder = BackgroundCommand(["flock", path, "sleep", "2"], outputPrefix: fixture.directory.path + "/holder")
        #expect(eventually(timeout: 10) { isLocked(path) })
        let rerun = fixture.run(config, taskID: "chain")
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("was dead, a child of it released the lock"))
        #expect(holder.wait() == 0)
        #expect(fixture.read("runs.a") == "a\n")
        #expect(fixture.read("runs.b") == "b\n")
    }

    @Test func aLockHeldByALiveRunnerIsStillRefused() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "s", "processes": [{"name": "p", "cmdline": "sleep 30"}]}"#)
        let runner = fixture.start(config, taskID: "s")
        _ = try #require(fixture.waitForRunning("s", "p"))
        let refused = fixture.run(config, taskID: "s")
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("locked by a live runner (pid \(runner.pid))"))
        runner.signal(SIGKILL)
        runner.wait()
        _ = thermos(["kill", "--root", fixture.root, "s"])
    }

    /// No fd of the runner reaches a coordinator or a command: only 0–2, and the coordinator's
    /// own stream (3) and socket (4).
    @Test func spawnedChildrenHoldNoRunnerDescriptor() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "f", "processes": [{"name": "p", "cmdline": "sleep 5"}]}"#)
        let runner = fixture.start(config, taskID: "f")
        let run = try #require(fixture.waitForRunning("f", "p"))
        let runnerPath = TaskPath.runnerCheckpoint(root: fixture.root, taskID: "f")
        for pid in [run.coordinatorPid!, run.pid!] {
            let targets = openDescriptors(pid)
            #expect(!targets.values.contains(runnerPath), "pid \(pid) holds the runner stream: \(targets)")
        }
        #expect(openDescriptors(run.pid!).keys.allSatisfy { $0 <= 2 }, "the command holds \(openDescriptors(run.pid!))")
        runner.signal(SIGKILL)
        runner.wait()
        _ = thermos(["kill", "--root", fixture.root, "f"])
    }

    // Item 2: killed after the terminal record, before the task file moved.
    @Test func alreadyFinishedTaskCompletesAnInterruptedFinalization() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        let crashed = fixture.run(config, taskID: "chain", environment: ["THERMOS_CRASH_AT": "after-terminal:success"])
        #expect(crashed.status == 128 + SIGKILL)
        #expect(fixture.taskStates("chain").last == .success)
        #expect(fixture.taskFileExists("chain", .active))
        let rerun = fixture.run(config, taskID: "chain")
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("completed its interrupted finalization"))
        #expect(!fixture.taskFileExists("chain", .active))
        #expect(fixture.taskFileExists("chain", .finished))
        #expect(fixture.read("runs.a") == "a\n")
        #expect(fixture.read("runs.b") == "b\n")
    }

    /// The same window, made by hand (the state a crash there leaves), also for `thermos runner`.
    @Test func taskFileLeftInActiveByACrashIsMovedByTheNextRun() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        #expect(fixture.run(config, taskID: "chain").status == 0)
        let active = TaskPath.taskFile(root: fixture.root, taskID: "chain", state: .active)
        let finished = TaskPath.taskFile(root: fixture.root, taskID: "chain", state: .finished)
        #expect(rename(finished, active) == 0)
        let rerun = fixture.run(config, taskID: "chain")
        #expect(rerun.status == 0)
        #expect(fixture.taskFileExists("chain", .finished) && !fixture.taskFileExists("chain", .active), "\(rerun.stderr)")
        let status = thermos(["status", "--root", fixture.root, "--only", "active"])
        #expect(!status.stdout.contains("chain"))
    }

    // Item 3: a host crash (runner, coordinator and command killed together) leaves the run
    // FORKED/RUNNING; the re-run finds it LOST and must relaunch it as soon as min_duration allows.
    @Test(arguments: [0, 1])
    func lostRunIsRelaunchedWithoutWaitingForASafetyTimer(minDuration: Int) throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "h", "processes": [{"name": "p", "min_duration": \#(minDuration),
              "cmdline": "echo run >> runs.p; if [ $(wc -l < runs.p) -eq 1 ]; then sleep 60; fi"}]}
            """#)
        let runner = fixture.start(config, taskID: "h")
        let first = try #require(fixture.waitForRunning("h", "p"))
        runner.signal(SIGKILL)
        runner.wait()
        kill(-first.coordinatorPid!, SIGKILL)
        #expect(eventually { !isAlive(first.coordinatorPid!) && !isAlive(first.pid!) })
        let rerun = fixture.run(config, taskID: "h")
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let runs = fixture.runs("h", "p")
        #expect(runs.map(\.state) == [.lost, .success])
        let takeover = try #require(fixture.state("h").statuses.dropFirst().first { $0.state == .active }?.timestampMs)
        let delay = try #require(runs.last?.forkTime) - Double(takeover) / 1000
        #expect(delay >= Double(minDuration) - 0.01)
        #expect(delay < Double(minDuration) + 2.0, "relaunched \(delay) s after the takeover (min_duration \(minDuration))")
    }

    // Item 4: our own disk failing at a new coordinator stream is not the task's failure.
    @Test(arguments: [("ENOSPC", "No space left on device"), ("EIO", "Input/output error"),
                      ("EDQUOT", "Disk quota exceeded"), ("EROFS", "Read-only file system")])
    func storageFailureAtACoordinatorStreamLeavesTheTaskResumable(errorName: String, text: String) throws {
        if let reason = LazyFSMount.unavailable { Issue.record("FUSE power-loss tests cannot run: \(reason)"); return }
        let directory = TemporaryDirectory(prefix: "thermos-enospc")
        defer { directory.remove() }
        let mount = LazyFSMount(directory: directory.path, ["--fail", "coordinator.b:\(errorName)"])
        #expect(mount.mount(), "\(mount.daemonLog)")
        defer { mount.unmount() }
        let task = FaultRoot(root: mount.mountpoint + "/root", sandbox: directory.path + "/sandbox-\(errorName)")
        let config = directory.write("chain.json", Self.chain)
        let stopped = task.run(config, taskID: "chain")
        #expect(stopped.status == 5, "\(stopped.stderr)")
        let lastLine = stopped.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(lastLine.contains("coordinator.b") && lastLine.contains(text), "\(stopped.stderr)")
        #expect(!task.state("chain").taskState!.isTerminal)
        #expect(task.state("chain").processes["b"]?.last?.state == .waiting)
        #expect(task.taskFileExists("chain", .active))
        mount.heal()
        let resumed = task.run(config, taskID: "chain")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(task.lines("runs.a") == ["a"])
        #expect(task.lines("runs.b") == ["b"])
        #expect(task.state("chain").processes["b"]?.map(\.state) == [.success])
    }

    // Found by the power-loss test: under --fsync=group a power cut can drop the runner stream's
    // WAITING of a run whose coordinator stream kept its FORKED (never synced). The re-run starts
    // that run again with the same seq; the ghost records must not make it stop with exit 5.
    @Test func ghostRecordsOfAnUncommittedRunAreDroppedFromTheCoordinatorStream() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.chain)
        #expect(fixture.run(config, taskID: "chain", environment: ["THERMOS_CRASH_AT": "after-forked:b"]).status == 128 + SIGKILL)
        let coordinator = TaskPath.processCheckpoint(root: fixture.root, taskID: "chain", process: "b")
        #expect(eventually { ((try? CheckpointReader.read(path: coordinator))?.records.count ?? 0) == 3 }, "b's coordinator ran it")
        // The power cut: the runner stream loses its last record (b's WAITING).
        let runner = TaskPath.runnerCheckpoint(root: fixture.root, taskID: "chain")
        let stream = try CheckpointReader.read(path: runner)
        guard case .processStatus(let waiting)? = stream.records.last, waiting.process == "b", waiting.state == .waiting else {
            Issue.record("unexpected last record \(String(describing: stream.records.last))")
            return
        }
        #expect(truncate(runner, off_t(stream.entries.last!.offset)) == 0)
        let rerun = fixture.run(config, taskID: "chain")
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(fixture.runs("chain", "b").map(\.state) == [.success])
        let seqs = try CheckpointReader.read(path: coordinator).records.compactMap { record -> Int64? in
            if case .processStatus(let status) = record { return status.seq }
            return nil
        }
        #expect(seqs == [1, 2, 3], "each seq once in \(coordinator)")
        #expect(pythonReaderComplaint(coordinator) == nil)
    }

    // Item 7.
    @Test func readReportsGarbageWithItsByteOffset() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let good = try! RecordFraming.frame(RunnerCkpt.taskStatus(TaskStatus(state: .active)).thriftPayload())
        let garbage = directory.write("garbage", good + [0, 0, 0, 4, 0x0C, 0x00, 0x03, 0x99])
        let result = thermos("read", garbage)
        #expect(result.status == 1)
        #expect(result.stderr.contains("record at byte \(good.count)"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func failedAndKilledTasksEndTheRunnerLogWithAClosingLine() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let failing = fixture.config(#"{"name": "x", "processes": [{"name": "p", "cmdline": "exit 3"}]}"#, name: "fail.json")
        let failed = fixture.run(failing, taskID: "x")
        #expect(failed.status == 1)
        #expect(failed.stderr.split(separator: "\n").last?.hasSuffix("runner] Task FAILED: process p failed 1 time (max_failures 1)") == true, "\(failed.stderr)")

        let sleeping = fixture.config(#"{"name": "k", "processes": [{"name": "p", "cmdline": "sleep 30"}]}"#, name: "kill.json")
        let runner = fixture.start(sleeping, taskID: "k")
        _ = try #require(fixture.waitForRunning("k", "p"))
        runner.signal(SIGTERM)
        #expect(runner.wait() == 3)
        #expect(runner.stderr.contains("Process(p) killed by signal 15; counted as a loss, not a failure."), "\(runner.stderr)")
        #expect(!runner.stderr.contains("marking it as a loss"))
        #expect(runner.stderr.split(separator: "\n").last?.hasSuffix("runner] Task KILLED: kill requested (signal)") == true, "\(runner.stderr)")
    }
}

/// True if `path` is flock'ed by someone (a shared lock attempt fails).
func isLocked(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) == 0 {
        flock(fd, LOCK_UN)
        return false
    }
    return true
}

/// fd → target of every open descriptor of `pid`.
func openDescriptors(_ pid: Int32) -> [Int32: String] {
    var result: [Int32: String] = [:]
    guard let directory = opendir("/proc/\(pid)/fd") else { return [:] }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let fd = Int32(name) else { continue }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/\(pid)/fd/\(name)", &buffer, buffer.count - 1)
        result[fd] = count > 0 ? String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
    return result
}
