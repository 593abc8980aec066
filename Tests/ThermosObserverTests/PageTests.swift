import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import ThermosObserver
import ThermosTestSupport

/// The HTML pages render what the JSON says, escape everything from a task, and 404 like the original.
@Suite struct PageTests {
    @Test func pagesOfTheFixture() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(body.contains("data-url=\"/main/active/0/20\"") && body.contains("/assets/observer.js"))
            }
            try await client.execute(uri: "/main/finished/0/20", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("finished tasks 0…5 of 6"))
                #expect(body.contains("href=\"/task/failure_limit\""))
                #expect(body.contains("state-FAILED"))
            }
            try await client.execute(uri: "/main/bogus", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/task/failure_limit", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("failing_task"))
                #expect(body.contains("href=\"/process/failure_limit/b\""))
                #expect(body.contains("/logs/failure_limit/a/0/stdout"))
                #expect(body.contains("<span class=\"state state-FAILED\">FAILED</span></td><td>1</td>"))
            }
            try await client.execute(uri: "/task/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("Failed to find task nope.  Try again shortly."))
            }
            try await client.execute(uri: "/process/failure_limit/b", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("exit 1"))
                #expect(body.contains("state-FAILED"))
            }
            try await client.execute(uri: "/process/failure_limit/zzz", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/logs/hello_world/echo/0/stdout", method: .get) { response in
                #expect(String(buffer: response.body).contains("data-url=\"/logdata/hello_world/echo/0/stdout\""))
            }
            try await client.execute(uri: "/logs/hello_world/echo/0/core", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/rawtask/ports", method: .get) { response in
                #expect(String(buffer: response.body).contains("&quot;cmdline&quot;"))
            }
            try await client.execute(uri: "/assets/observer.css", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/assets/../etc", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func taskTextIsEscapedAndTheSandboxBrowses() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        let records = TaskRootBuilder.records(
            taskID: "x", sandbox: directory.path + "/sb", logDir: directory.path + "/sb/.logs", user: "<script>alert(1)</script>",
            processes: [.init("<img src=x onerror=alert(1)>", .running)], finalState: nil)
        try builder.addTask("x", directory: .active, records: records, taskJSON: #"{"name": "<b>bold</b>", "processes": []}"#)
        builder.makeDirectories(directory.path + "/sb/sub")
        builder.writeFile(directory.path + "/sb/sub/f.txt", Array("x".utf8))
        try await withObserver([directory.path]) { _, client in
            for uri in ["/task/x", "/main/active/0/20"] {
                try await client.execute(uri: uri, method: .get) { response in
                    let body = String(buffer: response.body)
                    #expect(!body.contains("<script>alert"), "\(uri)")
                    #expect(!body.contains("<img src=x"), "\(uri)")
                    #expect(!body.contains("<b>bold"), "\(uri)")
                    #expect(body.contains("&lt;b&gt;bold&lt;/b&gt;"), "\(uri)")
                }
            }
            try await client.execute(uri: "/browse/x", method: .get) { response in
                #expect(String(buffer: response.body).contains("href=\"/browse/x/sub\""))
            }
            try await client.execute(uri: "/browse/x/sub", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("href=\"/file/x/sub/f.txt\"") && body.contains("href=\"/download/x/sub/f.txt\""))
            }
            try await client.execute(uri: "/browse/x/..%2F..", method: .get) { #expect($0.status == .notFound) }
        }
    }
}
