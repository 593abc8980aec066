import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import ThermosMonitor
import ThermosObserver
import ThermosTestSupport

/// Names with spaces and other reserved characters, the UI fixes, paged listings and metrics.
@Suite struct UITests {
    @Test func aProcessNamedWebServerHasWorkingPagesAndLinks() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        let (sandbox, _) = try builder.addSimpleTask("t 1", directory: .active, processes: [.init("web server", .running)], finalState: nil)
        builder.writeFile(sandbox + "/a file#1.txt", Array("x".utf8))
        try await withObserver([directory.path]) { _, client in
            try await client.execute(uri: "/task/t%201", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(body.contains(#"href="/process/t%201/web%20server""#))
                #expect(body.contains(#"href="/logs/t%201/web%20server/0/stdout""#))
            }
            try await client.execute(uri: "/process/t%201/web%20server", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/logs/t%201/web%20server/0/stdout", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"data-url="/logdata/t%201/web%20server/0/stdout""#))
            }
            try await client.execute(uri: "/logdata/t%201/web%20server/0/stdout?offset=0", method: .get) { response in
                #expect(String(buffer: response.body).contains("hello from web server"))
            }
            try await client.execute(uri: "/j/process/t%201/web%20server", method: .get) { response in
                #expect(String(buffer: response.body).contains("RUNNING"))
            }
            try await client.execute(uri: "/browse/t%201", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains(#"href="/file/t%201/a%20file%231.txt""#), "\(body)")
                #expect(body.contains(#"href="/download/t%201/a%20file%231.txt""#))
            }
            try await client.execute(uri: "/filedata/t%201/a%20file%231.txt?offset=0", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""data": "x""#))
            }
        }
    }

    @Test func indexTaskAndLogPagesHaveTheFixes() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
                #expect(!body.contains("<script>"), "inline script would break the CSP")
            }
            try await client.execute(uri: "/main/finished/0/20", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("<th>task id</th>") && body.contains("<th>user</th>") && !body.contains("<th>role</th>"))
                #expect(body.contains(#"<a href="/task/failure_limit">failure_limit</a>"#))
            }
            // A finished task: no resources block, no cpu/ram columns.
            try await client.execute(uri: "/task/failure_limit", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(!body.contains("<h2>Resources</h2>"))
            }
            // The active one keeps them, with human-readable sizes.
            try await client.execute(uri: "/task/sleep60-lost", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("<h2>Resources</h2>"))
                #expect(body.contains("0 B"))
            }
            try await client.execute(uri: "/logs/hello_world/echo/0/stdout", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains(#"id="log-search""#) && body.contains(#"id="log-wrap""#))
            }
        }
    }

    @Test func largeDirectoriesArePaged() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        let (sandbox, _) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        builder.makeDirectories(sandbox + "/many")
        for index in 0..<1200 { close(open(sandbox + "/many/f\(index)", O_WRONLY | O_CREAT, 0o644)) }
        try await withObserver([directory.path]) { _, client in
            try await client.execute(uri: "/browse/t/many", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.components(separatedBy: "href=\"/file/t/many/").count - 1 == SafeFiles.listingPage)
                #expect(body.contains("of 1200") && body.contains("/browse/t/many?offset=500"))
            }
            try await client.execute(uri: "/browse/t/many?offset=1000", method: .get) { response in
                #expect(String(buffer: response.body).components(separatedBy: "href=\"/file/t/many/").count - 1 == 200)
            }
        }
    }

    @Test func perTaskGaugesComeAndGo() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        try builder.addSimpleTask("alive", directory: .active, processes: [.init("p", .running)], finalState: nil)
        var settings = ObserverSettings()
        settings.resourceCollection = false
        let observer = try TaskObserver(roots: [directory.path], settings: settings)
        observer.refresh()
        let metrics = ObserverMetrics()
        metrics.update(observer: observer)
        #expect(metrics.tasksWithGauges == ["alive"])
        #expect(metrics.render(observer: observer).contains(#"thermos_task_rss_bytes{task_id="alive"}"#))
        builder.makeDirectories(directory.path + "/tasks/finished")
        rename(directory.path + "/tasks/active/alive", directory.path + "/tasks/finished/alive")
        observer.refresh()
        let text = metrics.render(observer: observer)
        #expect(metrics.tasksWithGauges.isEmpty)
        #expect(!text.contains(#"task_id="alive""#))
        #expect(text.contains("thermos_observer_scrapes_total 2"))
        #expect(text.contains(#"thermos_tasks{type="finished"} 1"#))
    }
}
