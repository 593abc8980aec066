import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Our extensions through the real binaries: `depends_on: ready` over a readiness probe,
/// liveness restarts, `env`/`cwd`, a hanging probe cut at its timeout, and validation errors.
@Suite(.timeLimit(.minutes(2)))
struct ProbeScenarioTests {
    /// The client's very first `curl` succeeds: it starts only once `python3 -m http.server`
    /// (which waits a second before serving) answered the readiness probe.
    @Test func aClientDependingOnReadyStartsOnlyOnceTheServerAnswers() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "web", "processes": [
              {"name": "server", "ephemeral": true,
               "cmdline": "sleep 1; exec python3 -m http.server {{thermos.ports[http]}} --bind 127.0.0.1",
               "readiness": {"http": "http://127.0.0.1:{{thermos.ports[http]}}/", "interval_secs": 0.1, "timeout_secs": 0.5}},
              {"name": "client", "depends_on": {"server": "ready"},
               "cmdline": "if curl -sf http://127.0.0.1:{{thermos.ports[http]}}/ >/dev/null; then echo first-try-ok > client.out; else echo refused > client.out; fi"}]}
            """#)
        let result = fixture.run(config, taskID: "ready", ["-P", "http:0"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.read("client.out") == "first-try-ok\n")
        let server = try #require(fixture.runs("ready", "server").first)
        let client = try #require(fixture.runs("ready", "client").first)
        #expect(client.forkTime! - server.startTime! >= 1.0, "the client waited for the server to serve")
        #expect(result.stderr.contains("Process(client) waits for server ready."))
        #expect(result.stderr.contains("Process(server) is ready: HTTP 200"))
        let probes = String(decoding: readBytes(TaskPath.probeStatus(root: fixture.root, taskID: "ready")) ?? [], as: UTF8.self)
        #expect(probes.contains(#""server":{"ready""#) || probes.contains(#""server": {"ready""#), "\(probes)")
        let status = thermos(["status", "--root", fixture.root, "--json", "ready"])
        // The task has ended: the server's run is over, so it is no longer ready; its last result stays.
        #expect(status.stdout.contains(#""ready" : false"#), "\(status.stdout)")
        #expect(status.stdout.contains(#""detail" : "HTTP 200""#), "\(status.stdout)")
        #expect(thermos(["status", "--root", fixture.root, "--verbosity", "1", "ready"]).stdout.contains("server: not ready, readiness passed (HTTP 200)"))
    }

    /// A process whose liveness starts failing is killed after max_consecutive_failures
    /// failures (FAILED, a failure) and restarted within interval × failures + 100 ms of breaking.
    @Test func aFailingLivenessRestartsTheProcessInTime() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "live", "processes": [
              {"name": "daemon", "max_failures": 2, "min_duration": 0,
               "cmdline": "if [ -e broke_at ]; then touch healthy; sleep 0.5; exit 0; fi; touch healthy; sleep 1; rm healthy; date +%s.%N > broke_at; sleep 30",
               "liveness": {"exec": "test -e healthy", "interval_secs": 0.2, "timeout_secs": 1, "max_consecutive_failures": 3}}]}
            """#)
        let result = fixture.run(config, taskID: "live")
        #expect(result.status == 0, "\(result.stderr)")
        let runs = fixture.runs("live", "daemon")
        #expect(runs.map(\.state) == [.failed, .success])
        let brokeAt = try #require(fixture.read("broke_at")?.split(separator: "\n").first.flatMap { Double($0) })
        let restartedAt = try #require(runs.last?.forkTime)
        #expect(restartedAt - brokeAt <= 0.2 * 3 + 0.1, "restarted \(restartedAt - brokeAt) s after breaking")
        #expect(restartedAt > brokeAt)
        #expect(result.stderr.contains("failed its liveness probe 3 times in a row (exit 1)"))
    }

    /// `env` (templated) and `cwd` (inside the sandbox) reach the command; a cwd that is a
    /// symlink out of the sandbox is refused at spawn.
    @Test func envAndCwdReachTheProcess() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let outside = fixture.directory.path + "/outside"
        mkdir(outside, 0o755)
        let config = fixture.config(#"""
            {"name": "envcwd", "processes": [
              {"name": "setup", "cmdline": "mkdir -p work/dir && ln -s \#(outside) escape"},
              {"name": "use", "cwd": "work/dir", "env": {"GREETING": "hello from {{name}}", "PATH": "/bin:/usr/bin"},
               "depends_on": {"setup": "completed"}, "cmdline": "pwd > out; echo \"$GREETING|$PATH|$HOME\" >> out"},
              {"name": "escape", "cwd": "escape", "depends_on": {"setup": "completed"}, "cmdline": "touch escaped"}],
             "max_failures": 0}
            """#)
        let result = fixture.run(config, taskID: "envcwd")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.read("work/dir/out") == "\(fixture.sandbox)/work/dir\nhello from use|/bin:/usr/bin|\(fixture.sandbox)\n")
        #expect(fixture.runs("envcwd", "escape").last?.state == .failed)
        #expect(access(outside + "/escaped", F_OK) != 0, "the command ran outside the sandbox")
    }

    /// An exec probe that hangs is cut at its timeout (its process group killed): the run
    /// fails in about a second, not after the probe's 30 s, and no probe process is left.
    @Test func aHangingExecProbeIsCutAtItsTimeout() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let marker = "probe-marker-\(getpid())-\(Int.random(in: 0...999999))"
        let config = fixture.config(#"""
            {"name": "hang", "processes": [
              {"name": "daemon", "cmdline": "sleep 30",
               "liveness": {"exec": "sleep 30; echo \#(marker)", "interval_secs": 0.3, "timeout_secs": 0.3, "max_consecutive_failures": 2}}]}
            """#)
        let started = SystemClockForTests.now()
        let result = fixture.run(config, taskID: "hang")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(SystemClockForTests.now() - started < 10)
        #expect(result.stderr.contains("timed out after 0.3 s"))
        let leftovers = TaskDetectorForTests.processesWhoseCommandLineContains(marker)
        #expect(leftovers.isEmpty, "probe processes left: \(leftovers)")
    }

    /// Cycles, unknown processes and an escaping cwd are rejected before anything runs (exit 2),
    /// each in one line naming the field.
    @Test func validationErrorsNameTheFieldAndTheFix() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let cases: [(String, String)] = [
            (#"[{"name": "a", "cmdline": "true", "depends_on": {"b": "started"}}, {"name": "b", "cmdline": "true", "depends_on": {"a": "started"}}]"#,
             "processes[0].depends_on: Invalid task: dependency cycle a → b → a"),
            (#"[{"name": "a", "cmdline": "true", "depends_on": {"b": "ready"}}]"#, "processes[0].depends_on.b: Invalid task: depends on unknown process b"),
            (#"[{"name": "a", "cmdline": "true", "cwd": "../etc"}]"#, "processes[0].cwd: Invalid task: cwd '../etc' must stay inside the sandbox"),
            (#"[{"name": "a", "cmdline": "true", "readiness": {"tcp": "nohost"}}]"#, "Probe[tcp] failed: 'nohost' is not HOST:PORT"),
        ]
        for (index, (processes, expected)) in cases.enumerated() {
            let config = fixture.config(#"{"name": "bad", "processes": \#(processes)}"#, name: "bad\(index).json")
            let result = fixture.run(config, taskID: "bad\(index)")
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains(expected), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count <= 2, "\(result.stderr)")
        }
    }
}

/// Wall-clock seconds for the tests' coarse bounds.
enum SystemClockForTests {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// Scans /proc for command lines holding a marker unique to one test.
enum TaskDetectorForTests {
    static func processesWhoseCommandLineContains(_ marker: String) -> [Int32] {
        var found: [Int32] = []
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != getpid() else { continue }
            guard let bytes = readBytes("/proc/\(name)/cmdline") else { continue }
            if String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(marker) { found.append(pid) }
        }
        return found
    }
}
