import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// The observer's Kill task and Restart process buttons: absent (and POST refused) without
/// `--enable-control`; with it, POSTs must be same-origin and carry the start's CSRF token, and
/// then reach the runner through its control socket.
@Suite(.timeLimit(.minutes(5)))
struct ObserverControlTests {
    final class Observer {
        let command: BackgroundCommand
        var base = ""

        init(_ fixture: RunnerFixture, _ extra: [String]) throws {
            command = BackgroundCommand(
                [TestPaths.builtBinary("thermos"), "observer", "--root", fixture.root, "--port", "0"] + extra,
                outputPrefix: fixture.directory.path + "/observer-\(Int.random(in: 0...999999))")
            var found = ""
            _ = eventually(timeout: 20) {
                guard let line = command.stdout.split(separator: "\n").first(where: { $0.hasPrefix("Observer on http://") }) else { return false }
                found = String(line.dropFirst("Observer on ".count).prefix { $0 != " " }.dropLast())
                return true
            }
            base = try #require(found.isEmpty ? nil : found)
        }

        func get(_ path: String) -> String { CommandRunner.run(["curl", "-s", base + path], timeout: 10).stdout }

        /// The HTTP status of a form POST.
        func post(_ path: String, form: String, headers: [String] = []) -> String {
            CommandRunner.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data", form]
                    + headers.flatMap { ["-H", $0] } + [base + path], timeout: 10
            ).stdout
        }

        deinit {
            command.signal(SIGKILL)
            command.wait()
        }
    }

    @Test func buttonsOnlyWithEnableControlAndOnlyForSameOriginPostsWithTheToken() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "o", "processes": [{"name": "web", "cmdline": "sleep 60"}, {"name": "fin", "cmdline": "true", "final": true}]}"#)
        let runner = fixture.start(config, taskID: "o")
        _ = try #require(fixture.waitForRunning("o", "web"))

        let plain = try Observer(fixture, [])
        let plainPage = plain.get("/task/o")
        #expect(plainPage.contains("web") && !plainPage.contains("Kill task") && !plainPage.contains("Restart process"))
        #expect(plain.post("/control/task/o/kill", form: "csrf=x", headers: ["Origin: \(plain.base)"]) == "405")

        let observer = try Observer(fixture, ["--enable-control"])
        let page = observer.get("/task/o")
        #expect(page.contains("Kill task") && page.contains("Restart process"), "\(page)")
        let marker = #"name="csrf" value=""#
        let pieces = page.split(separator: marker, maxSplits: 1)
        let token = try #require(pieces.count == 2 ? String(pieces[1].prefix { $0 != "\"" }) : nil)
        #expect(token.count == 64)
        let restart = "/control/task/o/restart/web"
        let origin = "Origin: \(observer.base)"
        #expect(observer.post(restart, form: "csrf=\(token)") == "403", "no Origin or Referer")
        #expect(observer.post(restart, form: "csrf=\(token)", headers: ["Origin: http://evil.example"]) == "403")
        #expect(observer.post(restart, form: "csrf=\(token)", headers: ["Referer: http://evil.example/task/o"]) == "403")
        #expect(observer.post(restart, form: "csrf=wrong", headers: [origin]) == "403")
        #expect(observer.post(restart, form: "", headers: [origin]) == "403")
        #expect(fixture.runs("o", "web").count == 1, "nothing refused reached the runner")
        #expect(observer.post("/control/task/o/restart/nope", form: "csrf=\(token)", headers: [origin]) == "404")

        #expect(observer.post(restart, form: "csrf=\(token)", headers: ["Referer: \(observer.base)/task/o"]) == "303")
        _ = try #require(fixture.waitForRunning("o", "web", run: 1))
        #expect(fixture.runs("o", "web")[0].control == .restart)

        #expect(observer.post("/control/task/o/kill", form: "csrf=\(token)", headers: [origin]) == "303")
        runner.wait()
        #expect(fixture.taskStates("o").suffix(3) == [.cleaning, .finalizing, .killed])
        #expect(fixture.runs("o", "fin").last?.state == .success)
        #expect(observer.post("/control/task/o/kill", form: "csrf=\(token)", headers: [origin]) == "409")
    }
}
