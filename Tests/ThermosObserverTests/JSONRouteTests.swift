import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import OrderedCollections
import ThermosMonitor
import ThermosObserver
import ThermosTestSupport

/// Parses a response body as a JSON object.
func object(_ response: TestResponse) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
    return try #require(value as? [String: Any])
}

/// Runs `body` against a router over `roots`.
func withObserver(
    _ roots: [String], _ body: @Sendable (TaskObserver, any TestClientProtocol) async throws -> Void
) async throws {
    var settings = ObserverSettings()
    settings.resourceCollection = false
    let observer = try TaskObserver(roots: roots, settings: settings)
    observer.refresh()
    let server = try ObserverServer(observer: observer, arguments: ["thermos", "observer"])
    let app = Application(router: server.makeRouter())
    try await app.test(.router) { client in try await body(observer, client) }
}

/// Every JSON route of reference §4.3, against the fixture root and a live temporary root.
@Suite struct JSONRouteTests {
    let resourceKeys: Set<String> = ["cpu", "ram", "disk", "user", "system", "rss", "vms", "nice", "status", "threads"]

    @Test func taskIDsAndCountsOnTheFixture() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/j/task_id_count", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == #"{"active": 1, "finished": 6, "all": 7}"#)
            }
            try await client.execute(uri: "/j/task_ids/active", method: .get) { response in
                let page = try object(response)
                #expect(page["type"] as? String == "active")
                #expect(page["task_count"] as? Int == 1 && page["offset"] as? Int == 0 && page["num"] as? Int == 20)
                let rows = try #require(page["tasks"] as? [[String: Any]])
                #expect(Set(rows[0].keys) == resourceKeys.union(["task_id", "name", "role", "launch_timestamp", "state", "state_timestamp", "ports"]))
                #expect(rows[0]["task_id"] as? String == "sleep60-lost")
                #expect(rows[0]["role"] as? String == "wickman")
                #expect(rows[0]["state"] as? String == "ACTIVE")
            }
            try await client.execute(uri: "/j/task_ids/all/-1", method: .get) { response in
                let page = try object(response)
                #expect(page["offset"] as? Int == 6)
                #expect((page["tasks"] as? [Any])?.count == 1)
            }
            try await client.execute(uri: "/j/task_ids/finished/2/3", method: .get) { response in
                let page = try object(response)
                #expect(page["task_count"] as? Int == 6 && page["num"] as? Int == 3)
                #expect((page["tasks"] as? [Any])?.count == 3)
            }
            try await client.execute(uri: "/j/task_ids/bogus", method: .get) { response in
                #expect(response.status == .internalServerError)
            }
        }
    }

    @Test func taskAndProcessesOnTheFixture() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/j/task/failure_limit", method: .get) { response in
                let task = try #require(try object(response)["failure_limit"] as? [String: Any])
                #expect(Set(task.keys) == ["task_id", "name", "launch_timestamp", "state", "state_timestamp", "user", "resource_consumption", "ports", "processes", "task"])
                #expect(task["state"] as? String == "FAILED")
                #expect(task["name"] as? String == "failing_task")
                #expect(task["launch_timestamp"] as? Int == 1337097957)
                let processes = try #require(task["processes"] as? [String: [String]])
                #expect(processes == ["waiting": [], "running": [], "success": ["a"], "failed": ["b"], "killed": []])
                let resources = try #require(task["resource_consumption"] as? [String: Any])
                #expect(Set(resources.keys) == resourceKeys)
                #expect((task["task"] as? [String: Any])?["name"] as? String == "failing_task")
            }
            try await client.execute(uri: "/j/task?task_id=hello_world,ports", method: .get) { response in
                let keys = try object(response).keys
                #expect(Set(keys) == ["hello_world", "ports"])
            }
            try await client.execute(uri: "/j/task", method: .get) { response in
                #expect(String(buffer: response.body) == "{}")
            }
            try await client.execute(uri: "/j/task/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
            // FAILED keeps its return code (DESIGN §2.1); SUCCESS never shows rc 0.
            try await client.execute(uri: "/j/process/failure_limit/b", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"process_name": "b", "process_run": 0, "state": "FAILED", "start_time": 1337097960.527219, "stop_time": 1337097960.539265, "return_code": 1}"#)
            }
            try await client.execute(uri: "/j/process/failure_limit/a/-1", method: .get) { response in
                let process = try object(response)
                #expect(process["state"] as? String == "SUCCESS" && process["return_code"] == nil && process["process_run"] as? Int == 0)
            }
            for uri in ["/j/process/failure_limit/a/1", "/j/process/failure_limit/zzz", "/j/process/failure_limit", "/j/process/failure_limit/a/x"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(String(buffer: response.body) == "{}", "\(uri)")
                }
            }
            try await client.execute(uri: "/j/processes?task_id=hello_world", method: .get) { response in
                let all = try object(response)
                #expect(((all["hello_world"] as? [String: Any])?["echo"] as? [String: Any])?["state"] as? String == "SUCCESS")
            }
        }
    }

    @Test func logAndFileChunks() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/logdata/hello_world/echo/0/stdout", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"offset": 12, "length": 0}"#)
            }
            try await client.execute(uri: "/logdata/hello_world/echo/0/stdout?offset=0&length=5", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"offset": 0, "length": 5, "data": "hello"}"#)
            }
            try await client.execute(uri: "/logdata/hello_world/echo/0/stdout?offset=100", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"offset": 100, "length": 0}"#)
            }
            for uri in ["/logdata/hello_world/echo/0/other", "/logdata/hello_world/echo/0/stdout?offset=x"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(String(buffer: response.body) == "{}")
                }
            }
        }
    }

    @Test func liveTaskFollowsItsWriter() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        let (sandbox, logDir) = try builder.addSimpleTask(
            "live", directory: .active, processes: [.init("web", .running, pid: 999_999)], finalState: nil, ports: ["http": 8080])
        builder.writeFile(sandbox + "/notes.txt", Array("<b>a & b</b>".utf8))
        try await withObserver([directory.path]) { observer, client in
            try await client.execute(uri: "/j/task/live", method: .get) { response in
                let task = try #require(try object(response)["live"] as? [String: Any])
                #expect(task["state"] as? String == "ACTIVE")
                #expect(task["ports"] as? [String: Int] == ["http": 8080])
                #expect(task["processes"] as? [String: [String]] == ["waiting": [], "running": ["web"], "success": [], "failed": [], "killed": []])
                #expect((task["task"] as? [String: Any])?["user"] as? String == "root")
            }
            try await client.execute(uri: "/j/process/live/web", method: .get) { response in
                let process = try object(response)
                #expect(process["state"] as? String == "RUNNING")
                #expect(process["used"] is [String: Any])
            }
            // The runner appends: the process fails and the task finishes.
            let writer = try CheckpointWriter(path: TaskPath.runnerCheckpoint(root: directory.path, taskID: "live"), policy: .none)
            try writer.append(.processStatus(ProcessStatus(seq: 3, process: "web", state: .failed, stopTime: 5, returnCode: 2)))
            try writer.append(.taskStatus(TaskStatus(state: .failed, timestampMs: 1_700_000_009_000)))
            try writer.close()
            try await client.execute(uri: "/j/process/live/web", method: .get) { response in
                #expect(String(buffer: response.body).hasSuffix(#""state": "FAILED", "start_time": 1700000000.1, "stop_time": 5.0, "return_code": 2}"#))
            }
            builder.makeDirectories(directory.path + "/tasks/finished")
            rename(directory.path + "/tasks/active/live", directory.path + "/tasks/finished/live")
            observer.refresh()
            try await client.execute(uri: "/j/task_ids/finished", method: .get) { response in
                let rows = try #require(try object(response)["tasks"] as? [[String: Any]])
                #expect(rows.first?["state"] as? String == "FAILED")
                #expect(rows.first?["state_timestamp"] as? Int == 1_700_000_009)
            }
            try await client.execute(uri: "/filedata/live/notes.txt?offset=0", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"offset": 0, "length": 12, "data": "&lt;b&gt;a &amp; b&lt;/b&gt;"}"#)
            }
            try await client.execute(uri: "/logdata/live/web/0/stdout?offset=0", method: .get) { response in
                let chunk = try object(response)
                #expect(chunk["data"] as? String == "hello from web\n")
            }
            _ = logDir
        }
    }

    @Test func varsHealthAndMetrics() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/health", method: .get) { #expect(String(buffer: $0.body) == "OK") }
            try await client.execute(uri: "/vars", method: .get) { response in
                let lines = String(buffer: response.body).split(separator: "\n").map { String($0.split(separator: " ")[0]) }
                #expect(lines == lines.sorted() && lines.contains("sys.uptime"))
            }
            try await client.execute(uri: "/vars.json", method: .get) { response in
                let vars = try object(response)
                #expect(vars["observer.tasks.finished"] as? Int == 6)
            }
            try await client.execute(uri: "/vars/nothing", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains(#"thermos_task_state{state="FAILED"} 1"#))
                #expect(body.contains(#"thermos_tasks{type="active"} 1"#))
                #expect(body.contains(#"thermos_task_rss_bytes{task_id="sleep60-lost"}"#))
                #expect(body.contains("thermos_observer_last_scrape_seconds"))
            }
        }
    }
}
