import Glibc
import Testing
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform
import ThermosTestSupport

/// The runner's fork server (`thermos-coordinator --fork-server`) through the real binaries: it is
/// single-threaded, holds nothing of the runner's, forks coordinators that look exactly like
/// coordinators spawned for their run (session, fds, signals, pid validation), reaps them, and a
/// server that dies is replaced without losing or repeating a run. Every check is scoped to the
/// test's own runner and its descendants.
@Suite(.timeLimit(.minutes(3)))
struct ForkServerTests {
    static func waiting(_ name: String, for file: String) -> String {
        #"{"name": "\#(name)", "cmdline": "while [ ! -e \#(file) ]; do sleep 0.02; done; echo \#(name) >> effects.\#(name)"}"#
    }

    @Test func forkedCoordinatorsAreChildrenOfASingleThreadedForkServer() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "f", "processes": [\#(["p0", "p1", "p2"].map { Self.waiting($0, for: "go") }.joined(separator: ", "))]}"#)
        let runner = fixture.start(config, taskID: "f")
        var runs: [ProcessStatus] = []
        for name in ["p0", "p1", "p2"] { runs.append(try #require(fixture.waitForRunning("f", name))) }
        let server = try #require(forkServers(of: runner.pid).first, "no fork server under runner \(runner.pid)")
        #expect(forkServers(of: runner.pid).count == 1)

        // Single-threaded, as fork requires, and holding nothing but stdio and its socket.
        #expect(threadCount(server) == 1)
        #expect(ProcessTable.entry(server)?.threads == 1)
        let serverFDs = openDescriptors(server)
        #expect(Set(serverFDs.keys).isSubset(of: [0, 1, 2, 3]), "fork server fds: \(serverFDs)")
        #expect(serverFDs[3]?.hasPrefix("socket:") == true)
        #expect(!serverFDs.values.contains { $0.hasPrefix(fixture.root) }, "fork server holds a checkpoint: \(serverFDs)")
        #expect(commandLine(server).contains(fixture.sandbox))

        // The three start in one step, so the (lazy) server is started for them and every
        // coordinator is a spare it forked ahead; none is spawned for its run.
        let forked = runs.filter { ProcessTable.entry($0.coordinatorPid!)?.parentPid == server }
        let spawned = runs.filter { ProcessTable.entry($0.coordinatorPid!)?.parentPid == runner.pid }
        #expect(forked.count == 3 && spawned.isEmpty, "forked \(forked.map(\.process)), spawned \(spawned.map(\.process))")
        for run in forked {
            let pid = try #require(run.coordinatorPid)
            let entry = try #require(ProcessTable.entry(pid))
            // Its own session and group (the runner signals the group), a start time that pid
            // validation accepts, and the fds of a coordinator: stdio, its stream and its socket.
            #expect(entry.session == pid && entry.processGroup == pid)
            #expect(abs(entry.startTime - run.forkTime!) < 1, "start \(entry.startTime), fork time \(run.forkTime!)")
            // (fd 4, the handshake socket, is closed once the go-ahead came; the command's stdin
            // is a /dev/null of its own.) Never the fork server's socket or another run's stream.
            let fds = openDescriptors(pid)
            #expect(fds.allSatisfy { $0.key <= 3 || $0.value == "/dev/null" }, "forked coordinator fds: \(fds)")
            #expect(fds[3] == TaskPath.processCheckpoint(root: fixture.root, taskID: "f", process: run.process!))
            #expect(!fds.values.contains { $0.hasPrefix("socket:") }, "forked coordinator fds: \(fds)")
            #expect(commandLine(pid).contains(ForkServerProtocol.forkedLabel) && !commandLine(pid).contains("--fork-server"))
            let ignored = signalMask(pid, "SigIgn")
            for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { #expect(ignored & (1 << UInt64(signal - 1)) != 0) }
            #expect(ignored & (1 << UInt64(SIGCHLD - 1)) == 0, "a coordinator must wait for its command")
            #expect(signalMask(pid, "SigBlk") == 0)
            // Its command starts clean: default signals, nothing blocked, only stdio.
            let command = try #require(run.pid)
            #expect(ProcessTable.entry(command)?.parentPid == pid)
            for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] {
                #expect(signalMask(command, "SigIgn") & (1 << UInt64(signal - 1)) == 0)
                // bash itself blocks signals for a moment around each fork of its `sleep`: a single
                // sample can land there. An inherited block would never clear.
                #expect(eventually(timeout: 5) { signalMask(command, "SigBlk") & (1 << UInt64(signal - 1)) == 0 })
            }
            #expect(openDescriptors(command).keys.allSatisfy { $0 <= 2 })
        }
        _ = fixture.directory.write("sandbox/go", "")
        #expect(runner.wait() == 0, "\(runner.stderr)")
        for name in ["p0", "p1", "p2"] { #expect(fixture.read("effects.\(name)") == "\(name)\n") }
        #expect(eventually(timeout: 10) { TaskProcesses.find(sandbox: fixture.sandbox, runner: nil).isEmpty },
                "leftovers: \(TaskProcesses.find(sandbox: fixture.sandbox, runner: nil))")
    }

    /// pid validation (pid + start time + uid) accepts forked coordinators: `thermos kill` from
    /// another process finds and kills every run.
    @Test func killFindsForkedCoordinatorsByTheirRecordedPid() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "k", "processes": [{"name": "a", "cmdline": "sleep 60"}, {"name": "b", "cmdline": "sleep 60"}, {"name": "c", "cmdline": "sleep 60"}]}"#)
        let runner = fixture.start(config, taskID: "k")
        var pids: [Int32] = []
        for name in ["a", "b", "c"] {
            let run = try #require(fixture.waitForRunning("k", name))
            pids += [run.coordinatorPid!, run.pid!]
        }
        let server = try #require(forkServers(of: runner.pid).first)
        #expect(pids.contains { ProcessTable.entry($0)?.parentPid == server })
        let killed = thermos(["kill", "--root", fixture.root, "k"])
        #expect(killed.status == 0, "\(killed.stderr)")
        runner.wait()
        #expect(fixture.state("k").taskState == .killed)
        #expect(eventually(timeout: 10) { pids.allSatisfy { !isAlive($0) } }, "alive: \(pids.filter(isAlive))")
        #expect(eventually(timeout: 10) { TaskProcesses.find(sandbox: fixture.sandbox, runner: nil).isEmpty })
    }

    /// The fork server is SIGKILLed twice mid-task: runs in flight go on (re-parented to the
    /// runner), the next launch gets a new server, and every run is recorded exactly once.
    @Test func aKilledForkServerIsReplacedWithoutLosingARun() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let chain = (0..<24).map { "c" + ($0 < 10 ? "0" : "") + String($0) }
        let processes = chain.map { #"{"name": "\#($0)", "cmdline": "echo \#($0) >> effects.\#($0); sleep 0.1"}"# }
            + [Self.waiting("long", for: "release")]
        let order = chain.map { "\"\($0)\"" }.joined(separator: ", ")
        let config = fixture.config(#"""
            {"name": "k", "processes": [\#(processes.joined(separator: ", "))],
             "constraints": [{"order": [\#(order)]}, {"order": ["c00", "long"]}]}
            """#)
        let runner = fixture.start(config, taskID: "k")
        // `long` starts after the first launch, so the fork server forks its coordinator.
        let long = try #require(fixture.waitForRunning("k", "long"))
        let longCoordinator = try #require(long.coordinatorPid)
        var servers: [Int32] = []
        for victim in ["c06", "c16"] {
            #expect(eventually { !fixture.runs("k", victim).isEmpty })
            let server = try #require(forkServers(of: runner.pid).first, "no fork server at \(victim)")
            #expect(!servers.contains(server))
            if servers.isEmpty { #expect(ProcessTable.entry(longCoordinator)?.parentPid == server) }
            servers.append(server)
            // Exited coordinators were reaped by the server: none is left a zombie.
            #expect(children(of: server).filter { processState($0) == "Z" }.isEmpty)
            #expect(kill(server, SIGKILL) == 0)
            // The run in flight lives on, adopted by the runner (a child subreaper).
            #expect(eventually(timeout: 10) { ProcessTable.entry(longCoordinator)?.parentPid == runner.pid })
        }
        #expect(eventually(timeout: 20) { fixture.runs("k", chain.last!).last?.state == .success })
        _ = fixture.directory.write("sandbox/release", "")
        #expect(runner.wait() == 0, "\(runner.stderr)")
        #expect(fixture.state("k").taskState == .success)
        for name in chain + ["long"] {
            #expect(fixture.read("effects.\(name)") == "\(name)\n", "\(name) ran \(fixture.read("effects.\(name)") ?? "never")")
            #expect(fixture.processRecords("k", name).map { $0.split(separator: " ")[1] } == ["WAITING", "FORKED", "RUNNING", "SUCCESS"],
                    "\(name): \(fixture.processRecords("k", name))")
        }
        for server in servers { #expect(runner.stderr.contains("Fork server (pid \(server))"), "\(runner.stderr)") }
        #expect(eventually(timeout: 10) { TaskProcesses.find(sandbox: fixture.sandbox, runner: nil).isEmpty })
    }

    /// A runner killed mid-task leaves its forked coordinators running and its fork server exits;
    /// the re-run re-attaches to them (pid validation) and forks new runs from a server of its own.
    @Test func aRestartedRunnerAdoptsForkedCoordinatorsWithAFreshForkServer() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "r", "processes": [\#(Self.waiting("a", for: "go")), \#(Self.waiting("b", for: "go")),
              {"name": "c", "cmdline": "echo c >> effects.c"}, \#(Self.waiting("d", for: "go2"))],
             "constraints": [{"order": ["a", "c", "d"]}, {"order": ["b", "c"]}]}
            """#)
        let first = fixture.start(config, taskID: "r")
        let a = try #require(fixture.waitForRunning("r", "a"))
        let b = try #require(fixture.waitForRunning("r", "b"))
        let oldServer = try #require(forkServers(of: first.pid).first)
        let coordinators = [a.coordinatorPid!, b.coordinatorPid!]
        #expect(coordinators.contains { ProcessTable.entry($0)?.parentPid == oldServer })
        first.signal(SIGKILL)
        first.wait()
        // The server sees its runner gone and exits; the coordinators carry on.
        #expect(eventually(timeout: 10) { !isAlive(oldServer) })
        #expect(coordinators.allSatisfy(isAlive))

        let second = fixture.start(config, taskID: "r")
        _ = fixture.directory.write("sandbox/go", "")
        let d = try #require(fixture.waitForRunning("r", "d"))
        let newServer = try #require(forkServers(of: second.pid).first)
        #expect(newServer != oldServer)
        #expect(ProcessTable.entry(d.coordinatorPid!)?.parentPid == newServer)
        _ = fixture.directory.write("sandbox/go2", "")
        #expect(second.wait() == 0, "\(second.stderr)")
        for name in ["a", "b", "c", "d"] {
            #expect(fixture.read("effects.\(name)") == "\(name)\n")
            #expect(fixture.runs("r", name).count == 1, "\(name): \(fixture.processRecords("r", name))")
        }
        #expect(eventually(timeout: 10) { TaskProcesses.find(sandbox: fixture.sandbox, runner: nil).isEmpty })
    }

    /// After launches the runner keeps one spare waiting for the next launch; a spare older than
    /// `maximumSpareAge` (5 s) is retired unused, so a late launch gets a fresh one, whose start
    /// time is close to the fork time recorded for its run.
    @Test func oneSpareWaitsAheadAndAnOldOneIsRetired() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "s", "processes": [\#(Self.waiting("a", for: "go")), \#(Self.waiting("b", for: "go")), \#(Self.waiting("c", for: "go2"))],
             "constraints": [{"order": ["a", "c"]}]}
            """#)
        let runner = fixture.start(config, taskID: "s")
        let a = try #require(fixture.waitForRunning("s", "a"))
        let b = try #require(fixture.waitForRunning("s", "b"))
        let server = try #require(forkServers(of: runner.pid).first)
        let coordinators: Set<Int32> = [a.coordinatorPid!, b.coordinatorPid!]
        var idle: [Int32] = []
        #expect(eventually(timeout: 10) {
            idle = children(of: server).filter { !coordinators.contains($0) }
            return idle.count == 1
        }, "idle spares of server \(server): \(idle)")
        let spare = try #require(idle.first)
        #expect(commandLine(spare).contains(ForkServerProtocol.forkedLabel))
        sleep(6)
        _ = fixture.directory.write("sandbox/go", "")
        let c = try #require(fixture.waitForRunning("s", "c"))
        let coordinator = try #require(c.coordinatorPid)
        #expect(coordinator != spare)
        #expect(eventually(timeout: 10) { !isAlive(spare) }, "the old spare \(spare) is still alive")
        let entry = try #require(ProcessTable.entry(coordinator))
        #expect(entry.parentPid == server)
        #expect(abs(entry.startTime - c.forkTime!) < 1, "start \(entry.startTime), fork time \(c.forkTime!)")
        _ = fixture.directory.write("sandbox/go2", "")
        #expect(runner.wait() == 0, "\(runner.stderr)")
        for name in ["a", "b", "c"] { #expect(fixture.read("effects.\(name)") == "\(name)\n") }
        #expect(eventually(timeout: 10) { TaskProcesses.find(sandbox: fixture.sandbox, runner: nil).isEmpty })
    }

    /// A one-process task starts no fork server: its only coordinator is spawned for its run.
    @Test func aOneProcessTaskStartsNoForkServer() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "one", "processes": [\#(Self.waiting("p", for: "go"))]}"#)
        let runner = fixture.start(config, taskID: "one")
        let run = try #require(fixture.waitForRunning("one", "p"))
        #expect(ProcessTable.entry(run.coordinatorPid!)?.parentPid == runner.pid)
        #expect(forkServers(of: runner.pid).isEmpty)
        _ = fixture.directory.write("sandbox/go", "")
        #expect(runner.wait() == 0, "\(runner.stderr)")
        #expect(fixture.read("effects.p") == "p\n")
    }

    /// The one-run path alone (`THERMOS_FORK_SERVER=off`) and a server from the first launch on
    /// (`eager`) run the same task to the same records.
    @Test(arguments: ["off", "eager"])
    func everyLaunchPolicyRunsTheTask(policy: String) throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let names = ["a", "b", "c", "d"]
        let config = fixture.config(#"""
            {"name": "m", "processes": [\#(names.map { #"{"name": "\#($0)", "cmdline": "echo \#($0) >> effects.\#($0)"}"# }.joined(separator: ", "))],
             "constraints": [{"order": ["a", "b", "c", "d"]}]}
            """#)
        let result = fixture.run(config, taskID: "m", environment: ["THERMOS_FORK_SERVER": policy])
        #expect(result.status == 0, "\(result.stderr)")
        for name in names {
            #expect(fixture.read("effects.\(name)") == "\(name)\n")
            #expect(fixture.runs("m", name).map(\.state) == [.success])
        }
    }
}

/// The fork servers among the children of `runner`.
func forkServers(of runner: Int32) -> [Int32] {
    children(of: runner).filter { commandLine($0).contains("--fork-server") }
}

/// The NUL-separated command line of `pid`, joined with spaces.
func commandLine(_ pid: Int32) -> String {
    String(decoding: (readBytes("/proc/\(pid)/cmdline") ?? []).map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
}

/// Threads of `pid` (entries of /proc/PID/task).
func threadCount(_ pid: Int32) -> Int {
    guard let directory = opendir("/proc/\(pid)/task") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if Int(name) != nil { count += 1 }
    }
    return count
}

/// A signal set of /proc/PID/status (`SigIgn`, `SigBlk`, …) as a bit mask (bit n-1 = signal n).
func signalMask(_ pid: Int32, _ field: String) -> UInt64 {
    let status = String(decoding: readBytes("/proc/\(pid)/status") ?? [], as: UTF8.self)
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return line.split(separator: "\t").last.flatMap { UInt64($0, radix: 16) } ?? 0
    }
    return 0
}
