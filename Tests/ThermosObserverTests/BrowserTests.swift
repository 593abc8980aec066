import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Where headless Chromium is, if installed (Debian package `chromium`).
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { access($0, X_OK) == 0 }

/// Loads the real pages of a running `thermos observer` in headless Chromium (JavaScript on)
/// and checks what is shown. Skipped, with this reason, only when Chromium is not installed.
@Suite(.serialized, .enabled(if: chromiumPath != nil, "chromium is not installed (apt-get install -y chromium)"))
struct BrowserTests {
    @Test func indexTaskProcessAndLogPagesRender() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let port = 20000 + Int(getpid() % 20000)
        guard let server = BackgroundProcess([
            TestPaths.builtBinary("thermos"), "observer", "--root", TestPaths.auroraRoot, "--port", String(port),
            "--disable-task-resource-collection",
        ]) else {
            Issue.record("cannot start the observer")
            return
        }
        defer { server.stop() }
        let base = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<100 where !up {
            up = CommandRunner.run(["curl", "-s", base + "/health"]).stdout == "OK"
            if !up { usleep(100_000) }
        }
        #expect(up)
        func dom(_ path: String, screenshot: String? = nil) -> String {
            var arguments = [chromiumPath!, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--user-data-dir=\(directory.path)/profile", "--virtual-time-budget=3000"]
            if let screenshot {
                arguments += ["--screenshot=\(directory.path)/\(screenshot)", "--window-size=1200,900"]
            } else {
                arguments.append("--dump-dom")
            }
            return CommandRunner.run(arguments + [base + path], environment: ["HOME": directory.path, "PATH": "/usr/bin:/bin"]).stdout
        }
        // The index loads its task lists with JavaScript.
        let index = dom("/")
        #expect(index.contains("finished tasks 0…5 of 6"))
        #expect(index.contains("active tasks 0…0 of 1"))
        #expect(index.contains("failing_task"))
        let task = dom("/task/failure_limit")
        #expect(task.contains("state-FAILED"))
        #expect(task.contains("/process/failure_limit/b"))
        let process = dom("/process/failure_limit/b")
        #expect(process.contains("exit 1"))
        // The pailer fetched the log and shows it.
        let log = dom("/logs/hello_world/echo/0/stdout")
        #expect(log.contains("hello world"))
        #expect(log.contains("(AT BEGINNING OF FILE)"))
        _ = dom("/task/failure_limit", screenshot: "task.png")
        #expect(access(directory.path + "/task.png", F_OK) == 0)
    }

    /// A process named `web server` (escaped links, decoded parameters) under the page's CSP:
    /// the log viewer fetches and shows its log, with search and wrap controls, at phone width.
    @Test func logViewerOfAProcessWithASpaceAtPhoneWidth() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        try builder.addSimpleTask("t", directory: .active, processes: [.init("web server", .running)], finalState: nil)
        let observer = try #require(LiveObserver(["--root", directory.path + "/root", "--disable-task-resource-collection"], directory: directory.path))
        defer { observer.stop() }
        func dom(_ path: String, width: Int) -> String {
            CommandRunner.run(
                [chromiumPath!, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--user-data-dir=\(directory.path)/profile", "--virtual-time-budget=3000", "--window-size=\(width),900", "--dump-dom",
                 observer.base + path],
                environment: ["HOME": directory.path, "PATH": "/usr/bin:/bin"]).stdout
        }
        let task = dom("/task/t", width: 390)
        #expect(task.contains(#"href="/logs/t/web%20server/0/stdout""#))
        let log = dom("/logs/t/web%20server/0/stdout", width: 390)
        #expect(log.contains("hello from web server"))
        #expect(log.contains(#"id="log-search""#) && log.contains("(AT BEGINNING OF FILE)"))
        let index = dom("/", width: 1280)
        #expect(index.contains(#"<a href="/task/t">t</a>"#))
    }
}
