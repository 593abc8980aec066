import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// The observer watching a task the real runner is running: it appears active at once, its
/// process shows RUNNING, and it moves to finished when the task is killed (issue 4 against
/// issue 3's runner).
// Five minutes, not one: the limit counts from scheduling, and in a full run the long blocking
// suites (chaos, power loss, setup-dsl) can hold both cooperative threads for over a minute.
@Suite(.timeLimit(.minutes(5)))
struct ObserverLiveTaskTests {
    @Test func observerFollowsALiveTaskFromActiveToFinished() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "live", "processes": [{"name": "web", "cmdline": "echo serving; sleep 60"}]}"#)
        let runner = fixture.start(config, taskID: "live")
        _ = try #require(fixture.waitForRunning("live", "web"))
        let port = 30000 + Int(getpid() % 20000)
        let observer = BackgroundCommand(
            [TestPaths.builtBinary("thermos"), "observer", "--root", fixture.root, "--port", String(port),
             "--task-process-collection-interval-secs", "1"],
            outputPrefix: fixture.directory.path + "/observer")
        defer {
            observer.signal(SIGKILL)
            observer.wait()
        }
        let base = "http://127.0.0.1:\(port)"
        func get(_ path: String) -> String { CommandRunner.run(["curl", "-s", base + path], timeout: 10).stdout }
        #expect(eventually(timeout: 20) { get("/health") == "OK" })
        let listing = get("/j/task_ids")
        #expect(listing.contains("\"task_id\": \"live\"") && listing.contains("\"state\": \"ACTIVE\""), "\(listing)")
        let task = get("/j/task?task_id=live")
        #expect(task.contains("\"state\":\"ACTIVE\"") || task.contains("\"state\": \"ACTIVE\""), "\(task)")
        let process = get("/j/process/live/web")
        #expect(process.contains("RUNNING"), "\(process)")
        #expect(get("/logdata/live/web/0/stdout?offset=0&length=100").contains("serving"))
        #expect(thermos(["kill", "--root", fixture.root, "live"]).status == 0)
        runner.wait()
        #expect(eventually(timeout: 10) { get("/j/task_ids").contains("\"state\": \"KILLED\"") })
        #expect(get("/j/task?task_id=live").contains("KILLED"))
    }
}
