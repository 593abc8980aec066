import Glibc
import Testing
import ThermosCheckpoint
import ThermosControl
import ThermosTestSupport

/// `thermos restart|stop|start` through the runner's control socket, on the real binaries:
/// each effect recorded (and readable by the Python reader), kept across a runner crash,
/// refused clearly, and guarded against other users, stalling and flooding clients.
@Suite(.timeLimit(.minutes(5)))
struct ControlCommandTests {
    static let webTask = #"{"name": "c", "processes": [{"name": "web", "cmdline": "sleep 60"}, {"name": "side", "cmdline": "sleep 60"}]}"#

    func control(_ fixture: RunnerFixture, _ verb: String, _ task: String, _ process: String) -> CommandResult {
        thermos([verb, "--root", fixture.root, task, process])
    }

    func pythonRecords(_ fixture: RunnerFixture, _ taskID: String) -> [String] {
        let result = CommandRunner.run(["python3", TestPaths.pythonReader, TaskPath.runnerCheckpoint(root: fixture.root, taskID: taskID)])
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func restartStopStartAreRecordedAndSurviveARunnerCrash() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.webTask)
        let runner = fixture.start(config, taskID: "c")
        let first = try #require(fixture.waitForRunning("c", "web"))

        let restart = control(fixture, "restart", "c", "web")
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(restart.stdout.contains("restarting web"))
        let second = try #require(fixture.waitForRunning("c", "web", run: 1))
        #expect(second.pid != first.pid)
        let ended = fixture.runs("c", "web")[0]
        #expect(ended.state == .killed && ended.control == .restart && ended.returnCode == -1)
        #expect(eventually(timeout: 5) { !isAlive(first.pid!) })
        // min_duration (5 s) does not hold a restart back.
        #expect(second.forkTime! - ended.stopTime! < 2)

        let stop = control(fixture, "stop", "c", "web")
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(eventually(timeout: 5) { fixture.runs("c", "web").last?.control == .stop })
        #expect(eventually(timeout: 5) { !isAlive(second.pid!) })

        // An Aurora reader sees KILLED runs; our field 12 is an unknown field to it.
        let lines = pythonRecords(fixture, "c")
        #expect(lines.contains { $0.contains("\"field12\": 1") && $0.contains("\"state\": 4") }, "\(lines)")
        #expect(lines.contains { $0.contains("\"field12\": 2") && $0.contains("\"state\": 4") }, "\(lines)")

        // The runner dies; a new one replays the stop and keeps web down.
        runner.signal(SIGKILL)
        runner.wait()
        #expect(control(fixture, "start", "c", "web").stderr.contains("is not running — `thermos run` the same task id"))
        let resumed = fixture.start(config, taskID: "c")
        #expect(eventually(timeout: 10) { fixture.state("c").statuses.last?.runnerPid == resumed.pid })
        usleep(1_500_000)
        #expect(fixture.runs("c", "web").count == 2, "a stopped process stays down after the runner restarts")
        #expect(fixture.runs("c", "side").count == 1)

        let start = control(fixture, "start", "c", "web")
        #expect(start.status == 0, "\(start.stderr)")
        _ = try #require(fixture.waitForRunning("c", "web", run: 2))
        let starts = pythonRecords(fixture, "c").filter { $0.contains("\"field5\"") }
        #expect(starts.count == 1 && starts[0].contains("\"field1\": 3") && starts[0].contains("\"field2\": \"web\""), "\(starts)")

        #expect(thermos(["kill", "--root", fixture.root, "c"]).status == 0)
        resumed.wait()
        #expect(fixture.taskStates("c").last == .killed)
        #expect(pythonReaderComplaint(TaskPath.runnerCheckpoint(root: fixture.root, taskID: "c")) == nil)
        #expect(access(ControlClient.socketPath(root: fixture.root, taskID: "c"), F_OK) != 0, "the socket goes with the runner")
    }

    @Test func refusalsAreClearOneLineErrors() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let runner = fixture.start(fixture.config(Self.webTask), taskID: "e")
        _ = try #require(fixture.waitForRunning("e", "web"))
        let unknownTask = control(fixture, "restart", "nope", "web")
        #expect(unknownTask.status == 1 && unknownTask.stderr.contains("no task nope in \(fixture.root)"), "\(unknownTask.stderr)")
        let unknownProcess = control(fixture, "stop", "e", "nope")
        #expect(unknownProcess.status == 1 && unknownProcess.stderr.contains("no process 'nope' in task e (processes: web, side)"))
        let notStopped = control(fixture, "start", "e", "web")
        #expect(notStopped.stderr == "thermos: task e: web is already running\n")
        // Another user who can see the task: the socket's mode bits keep it out.
        for directory in [fixture.directory.path, fixture.root, fixture.root + "/tasks", fixture.root + "/tasks/active", fixture.root + "/checkpoints"] {
            chmod(directory, 0o755)
        }
        let socketPath = ControlClient.socketPath(root: fixture.root, taskID: "e")
        var info = stat()
        #expect(stat(socketPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let asNobody = CommandRunner.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.builtBinary("thermos"), "restart", "--root", fixture.root, "e", "web"])
        #expect(asNobody.status == 77 && asNobody.stderr.contains("permission denied"), "\(asNobody.stderr)")
        // With the mode bits opened, the runner's SO_PEERCRED check still refuses.
        chmod(socketPath, 0o666)
        let peerChecked = CommandRunner.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.builtBinary("thermos"), "restart", "--root", fixture.root, "e", "web"])
        #expect(peerChecked.status == 77 && peerChecked.stderr.contains("uid 65534 may not control this task"), "\(peerChecked.stderr)")
        #expect(fixture.runs("e", "web").count == 1)
        #expect(thermos(["kill", "--now", "--root", fixture.root, "e"]).status == 0)
        runner.wait()
        let finished = control(fixture, "restart", "e", "web")
        #expect(finished.stderr.contains("task e has finished"))
    }

    @Test func socketPathsLongerThanSunPathWork() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let taskID = "long-" + String(repeating: "x", count: 110)
        #expect(ControlClient.socketPath(root: fixture.root, taskID: taskID).utf8.count > 108)
        let runner = fixture.start(fixture.config(Self.webTask), taskID: taskID)
        _ = try #require(fixture.waitForRunning(taskID, "web"))
        let restart = control(fixture, "restart", taskID, "web")
        #expect(restart.status == 0, "\(restart.stderr)")
        _ = try #require(fixture.waitForRunning(taskID, "web", run: 1))
        #expect(thermos(["kill", "--now", "--root", fixture.root, taskID]).status == 0)
        runner.wait()
    }

    @Test func stallingAndFloodingClientsDoNotHoldTheRunnerUp() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let runner = fixture.start(fixture.config(Self.webTask), taskID: "f")
        _ = try #require(fixture.waitForRunning("f", "web"))
        let path = ControlClient.socketPath(root: fixture.root, taskID: "f")
        func connected() -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let result = UnixSocketAddress.with(path) { connect(fd, $0, $1) }
            #expect(result == 0)
            return fd
        }
        // 40 clients connect and never send a line (more than the runner keeps open).
        let stalled = (0..<40).map { _ in connected() }
        defer { stalled.forEach { close($0) } }
        // One floods without a newline: it is answered too-long and cut off.
        let flooder = connected()
        defer { close(flooder) }
        var flags = fcntl(flooder, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(flooder, F_SETFL, flags)
        let junk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        var sent = 0
        for _ in 0..<200 {
            let count = junk.withUnsafeBytes { send(flooder, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 { sent += count } else if errno != EAGAIN { break } else { usleep(1000) }
        }
        #expect(sent < 1 << 20, "the runner stops reading a client past the request limit")
        var answer = [UInt8](repeating: 0, count: 256)
        var got = 0
        #expect(eventually(timeout: 5) {
            let count = answer.withUnsafeMutableBytes { recv(flooder, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { got = count }
            return count >= 0
        })
        #expect(String(decoding: answer.prefix(got), as: UTF8.self).hasPrefix("error too-long"))
        // The task goes on, and a real request is still served at once.
        let began = wallClock()
        let restart = control(fixture, "restart", "f", "web")
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(wallClock() - began < 5)
        _ = try #require(fixture.waitForRunning("f", "web", run: 1))
        #expect(thermos(["kill", "--now", "--root", fixture.root, "f"]).status == 0)
        runner.wait()
    }
}
