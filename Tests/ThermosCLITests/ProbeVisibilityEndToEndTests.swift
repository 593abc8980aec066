import Foundation
import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Through the real runner, observer and CLI: a live task's readiness shows in the observer's
/// JSON, page and `/metrics` once its probe passes, and a process `thermos stop` keeps down
/// shows as stopped in `status` (human and `--json`) and in the observer.
@Suite(.timeLimit(.minutes(3)))
struct ProbeVisibilityEndToEndTests {
    func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    @Test func readinessAndStoppedProcessesAreVisible() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "vis", "processes": [
              {"name": "server", "cmdline": "touch up; sleep 60",
               "readiness": {"exec": "test -e up", "interval_secs": 0.1, "timeout_secs": 1}},
              {"name": "side", "cmdline": "sleep 60"}]}
            """#)
        let runner = fixture.start(config, taskID: "vis")
        _ = try #require(fixture.waitForRunning("vis", "side"))
        let observer = try ObserverControlTests.Observer(fixture, [])

        var task: [String: Any] = [:]
        #expect(eventually(timeout: 15) {
            task = (json(observer.get("/j/task/vis"))?["vis"] as? [String: Any]) ?? [:]
            return ((task["probes"] as? [String: Any])?["server"] as? [String: Any])?["ready"] as? Bool == true
        }, "\(task)")
        let readiness = ((task["probes"] as? [String: Any])?["server"] as? [String: Any])?["readiness"] as? [String: Any]
        #expect(readiness?["passed"] as? Bool == true && readiness?["detail"] as? String == "exit 0", "\(task)")
        #expect((readiness?["time"] as? Double ?? 0) > 1_700_000_000)
        #expect(json(observer.get("/j/process/vis/server"))?["ready"] as? Bool == true)
        let page = observer.get("/task/vis")
        #expect(page.contains("ready") && page.contains("readiness passed"), "\(page)")
        let metrics = observer.get("/metrics")
        #expect(metrics.contains(#"thermos_process_ready{task_id="vis",process="server"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"thermos_process_probe_failures{task_id="vis",process="server",probe="readiness"} 0"#))

        let stop = thermos(["stop", "--root", fixture.root, "vis", "side"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(eventually(timeout: 10) { fixture.runs("vis", "side").last?.control == .stop })

        let status = thermos(["status", "--root", fixture.root, "--json", "vis"])
        let report = try #require((json("{\"r\": \(status.stdout)}")?["r"] as? [[String: Any]])?.first, "\(status.stdout)")
        let processes = try #require(report["processes"] as? [[String: Any]])
        #expect(processes.first { $0["name"] as? String == "side" }?["stopped"] as? Bool == true, "\(status.stdout)")
        #expect(processes.first { $0["name"] as? String == "server" }?["stopped"] == nil)
        let human = thermos(["status", "--root", fixture.root, "--verbosity", "1", "vis"]).stdout
        #expect(human.contains("side: stopped by thermos stop (`thermos start vis side` runs it again)"), "\(human)")
        #expect(!human.contains("server: stopped"))

        #expect(eventually(timeout: 10) {
            (json(observer.get("/j/task/vis"))?["vis"] as? [String: Any])?["stopped"] as? [String] == ["side"]
        })
        #expect(json(observer.get("/j/process/vis/side"))?["stopped"] as? Bool == true)
        #expect(observer.get("/task/vis").contains("state-STOPPED"))
        #expect(observer.get("/process/vis/side").contains("state-STOPPED"))

        // `thermos start` lifts it everywhere.
        #expect(thermos(["start", "--root", fixture.root, "vis", "side"]).status == 0)
        _ = try #require(fixture.waitForRunning("vis", "side", run: 1))
        #expect(!thermos(["status", "--root", fixture.root, "--json", "vis"]).stdout.contains("\"stopped\""))
        #expect(eventually(timeout: 10) { (json(observer.get("/j/task/vis"))?["vis"] as? [String: Any])?["stopped"] == nil })

        #expect(thermos(["kill", "--root", fixture.root, "--now", "vis"]).status == 0)
        runner.wait()
    }
}
