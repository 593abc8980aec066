import Foundation
import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos submit`/`jobs`/`cancel` on the one-node cluster of `scripts/slurm-cluster.sh`.
@Suite(.enabled(if: TestSlurm.installed, "Slurm is not installed here (apt-get install slurm-wlm munge; .ci/run does)"), .timeLimit(.minutes(5)))
struct SlurmTests {
    static func states(_ rows: [[String: Any]]) -> [String?] { rows.map { $0["state"] as? String } }
    static func slurmStates(_ rows: [[String: Any]]) -> [String?] { rows.map { $0["slurm_state"] as? String } }

    @Test func threeInstancesSeeTheirInstanceNodeAndOwnBoundPort() async throws {
        let fixture = SlurmFixture()
        defer { fixture.remove() }
        let observerPort = freeTCPPort()
        let bind = #"python3 -c \"import socket; socket.socket().bind(('0.0.0.0', {{thermos.ports[http]}}))\""#
        let config = fixture.directory.write("hello.json", """
            {"name": "hello", "processes": [{"name": "hello", "cmdline": "echo {{mesos.instance}} {{mesos.hostname}} {{thermos.ports[http]}} > ident && \(bind) && echo bound >> ident"}]}
            """)
        let (job, taskIDs) = try fixture.submit(config, ["--instances", "3", "--observer-port", String(observerPort)])
        #expect(taskIDs.count == 3)
        #expect(Set(taskIDs).count == 3)
        let rows = try await fixture.waitForJobs(job) { Self.slurmStates($0) == Array(repeating: "COMPLETED", count: 3) && Self.states($0) == Array(repeating: "SUCCESS", count: 3) }
        #expect(Self.states(rows) == ["SUCCESS", "SUCCESS", "SUCCESS"])
        #expect(Self.slurmStates(rows) == ["COMPLETED", "COMPLETED", "COMPLETED"])
        #expect(rows.map { $0["instance"] as? Int } == [0, 1, 2])
        #expect(rows.map { $0["task_id"] as? String } == taskIDs)
        #expect(Set(rows.map { Set($0.keys) }) == [["job_id", "instance", "node", "slurm_state", "task_id", "state", "observer"]])
        let node = try #require(rows[0]["node"] as? String)
        for (instance, taskID) in taskIDs.enumerated() {
            #expect(taskID.hasPrefix("hello.\(job).\(instance)."))
            let header = try RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: fixture.root, taskID: taskID)).state.header
            let port = try #require(header?.ports?["http"])
            #expect(port > 0)
            #expect(fixture.sandboxFile(taskID, "ident") == "\(instance) \(node) \(port)\nbound\n", "instance \(instance)")
            #expect(rows[instance]["observer"] as? String == "http://\(node):\(observerPort)/task/\(taskID)")
        }

        // The root out of reach: the states come from the node's observer instead.
        let moved = fixture.directory.path + "/moved-root"
        #expect(rename(fixture.root, moved) == 0)
        let observer = BackgroundCommand(
            [TestPaths.builtBinary("thermos"), "observer", "--root", moved, "--ip", "127.0.0.1", "--port", String(observerPort)],
            outputPrefix: fixture.directory.path + "/observer")
        defer {
            observer.signal(SIGKILL)
            observer.wait()
        }
        let viaObserver = try await fixture.waitForJobs(job, timeout: 30) { Self.states($0) == Array(repeating: "SUCCESS", count: 3) }
        #expect(Self.states(viaObserver) == ["SUCCESS", "SUCCESS", "SUCCESS"], "\(observer.stderr)")
    }

    @Test func auroraJobSelectedByKeyRunsEveryInstanceWithItsBindings() async throws {
        let fixture = SlurmFixture()
        defer { fixture.remove() }
        let config = fixture.directory.write("two.aurora", """
            greet = Process(name = 'greet', cmdline = 'echo {{role}} {{environment}} {{mesos.instance}} > ident')
            other = Process(name = 'other', cmdline = 'exit 9')
            jobs = [
              Job(cluster = 'local', role = 'www', environment = 'prod', name = 'hello',
                  task = SequentialTask(name = 'hello', processes = [greet], resources = Resources(cpu = 0.1, ram = 16*MB, disk = 16*MB))),
              Job(cluster = 'local', role = 'www', environment = 'prod', name = 'other',
                  task = Task(name = 'other', processes = [other], resources = Resources(cpu = 0.1, ram = 16*MB, disk = 16*MB))),
            ]
            """)
        // Two jobs and no --job: refused, naming the keys.
        let ambiguous = try fixture.thermos(["submit", "--root", fixture.root, config])
        #expect(ambiguous.status == 2)
        #expect(ambiguous.stderr.contains("local/www/prod/hello"), "\(ambiguous.stderr)")
        let (job, taskIDs) = try fixture.submit(config, ["--instances", "2", "--job", "local/www/prod/hello"])
        let rows = try await fixture.waitForJobs(job) { Self.states($0) == ["SUCCESS", "SUCCESS"] }
        #expect(Self.states(rows) == ["SUCCESS", "SUCCESS"])
        for (instance, taskID) in taskIDs.enumerated() {
            #expect(fixture.sandboxFile(taskID, "ident") == "www prod \(instance)\n", "instance \(instance)")
        }
    }

    @Test func failingTaskFailsItsSlurmJob() async throws {
        let fixture = SlurmFixture()
        defer { fixture.remove() }
        let config = fixture.directory.write("fail.json", #"{"name": "fails", "processes": [{"name": "boom", "cmdline": "exit 7"}]}"#)
        let (job, _) = try fixture.submit(config)
        let rows = try await fixture.waitForJobs(job) { Self.slurmStates($0) == ["FAILED"] && Self.states($0) == ["FAILED"] }
        #expect(Self.states(rows) == ["FAILED"])
        #expect(Self.slurmStates(rows) == ["FAILED"])
        let exit = try TestSlurm.run(["squeue", "-h", "-r", "-t", "all", "-j", "\(job)", "-o", "%T"])
        #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "FAILED")
    }

    @Test func cancelIsAStagedKillWithCleanupAndFinalProcess() async throws {
        let fixture = SlurmFixture()
        defer { fixture.remove() }
        let config = fixture.directory.write("long.json", """
            {"name": "long", "finalization_wait": 20, "processes": [
              {"name": "server", "cmdline": "trap 'sleep 3; echo cleaned > cleaned; exit 0' TERM; touch started; while true; do sleep 0.2; done"},
              {"name": "farewell", "cmdline": "echo final > final", "final": true}]}
            """)
        let (job, taskIDs) = try fixture.submit(config)
        #expect(await eventuallyAsync(timeout: 60) { fixture.sandboxFile(taskIDs[0], "started") != nil })
        let running = try fixture.jobs(job)
        #expect(Self.states(running) == ["ACTIVE"])
        #expect(Self.slurmStates(running) == ["RUNNING"])
        let cancelled = monotonicNow()
        let cancel = try fixture.thermos(["cancel", String(job)])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let rows = try await fixture.waitForJobs(job, timeout: 60) { Self.states($0) == ["KILLED"] && Self.slurmStates($0) == ["FAILED"] }
        let elapsed = monotonicNow() - cancelled
        #expect(Self.states(rows) == ["KILLED"])
        #expect(Self.slurmStates(rows) == ["FAILED"], "exit 3 of thermos run")
        #expect(fixture.sandboxFile(taskIDs[0], "cleaned") == "cleaned\n", "the process cleaned up for 3 s on SIGTERM")
        #expect(fixture.sandboxFile(taskIDs[0], "final") == "final\n", "the final process ran")
        #expect(elapsed >= 3)
        let state = try RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: fixture.root, taskID: taskIDs[0])).state
        #expect(state.statuses.map(\.state).suffix(3) == [.cleaning, .finalizing, .killed])
        #expect(try fixture.thermos(["cancel", String(job)]).stderr.contains("already FAILED"))
    }

    @Test func requeuedInstanceResumesFromItsCheckpoint() async throws {
        let fixture = SlurmFixture()
        defer { fixture.remove() }
        let config = fixture.directory.write("resume.json", """
            {"name": "resume", "processes": [
              {"name": "a", "cmdline": "echo a >> runs_a"},
              {"name": "b", "cmdline": "echo b >> runs_b; if [ $(wc -l < runs_b) -lt 2 ]; then touch waiting; exec sleep 1000; fi"}],
             "constraints": [{"order": ["a", "b"]}]}
            """)
        let (job, taskIDs) = try fixture.submit(config)
        let taskID = taskIDs[0]
        #expect(await eventuallyAsync(timeout: 60) { fixture.sandboxFile(taskID, "waiting") != nil })
        // The node "dies": every process of the instance and its slurmstepd are SIGKILLed.
        let element = try TestSlurm.run(["squeue", "-h", "-r", "-j", "\(job)_0", "-o", "%A"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!element.isEmpty, "no job id for the running instance (listpids without one lists every job)")
        let pids = try TestSlurm.run(["scontrol", "listpids", element]).stdout.split(separator: "\n").dropFirst()
            .compactMap { Int32($0.split(separator: " ").first ?? "") }
        #expect(!pids.isEmpty)
        // All at once, like a host crash: everything is stopped first, so no coordinator sees its
        // command die and records KILLED before it is killed itself (the run must be LOST).
        let everything = pids + slurmstepdPids(element: element)
        for pid in everything { kill(pid, SIGSTOP) }
        for pid in everything { kill(pid, SIGKILL) }
        let requeue = try TestSlurm.run(["scontrol", "requeue", "\(job)_0"])
        #expect(requeue.status == 0, "\(requeue.stderr)")
        // Slurm holds a requeued job for the credential lifetime (cred_expire=10 on the test
        // cluster): releasing it earlier makes slurmd refuse the launch ("credential revoked").
        let rows = try await fixture.waitForJobs(job, timeout: 150) { Self.states($0) == ["SUCCESS"] && Self.slurmStates($0) == ["COMPLETED"] }
        #expect(Self.states(rows) == ["SUCCESS"])
        #expect(fixture.sandboxFile(taskID, "runs_a") == "a\n", "a finished before the node died and does not run again")
        #expect(fixture.sandboxFile(taskID, "runs_b") == "b\nb\n")
        let state = try RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: fixture.root, taskID: taskID)).state
        #expect(state.processes["a"]?.map(\.state) == [.success])
        #expect(state.processes["b"]?.map(\.state) == [.lost, .success])
    }

    /// Pids of the slurmstepd processes of job `element` (`slurmstepd: [ID.batch]`, …).
    func slurmstepdPids(element: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let command = readBytes("/proc/\(entry)/cmdline") else { return nil }
            let text = String(decoding: command, as: UTF8.self)
            return text.hasPrefix("slurmstepd: [\(element).") ? pid : nil
        }
    }
}

/// A TCP port free right now (bound to 0, then released).
func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
