import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import ThermosMonitor
import ThermosObserver
import ThermosTestSupport

/// A task's probes.json in the observer: served in the task and process JSON and as
/// per-process gauges when well-formed; a link, FIFO, oversized or malformed file is no data,
/// answered at once.
@Suite(.timeLimit(.minutes(5))) struct ProbeVisibilityTests {
    static let document = #"""
        {"processes":{"web":{"ready":true,"readiness":{"run":0,"passed":true,"detail":"HTTP 200","time":1765000000.5,"consecutive_failures":0},
        "liveness":{"run":0,"passed":false,"detail":"exit 1","time":1765000001.25,"consecutive_failures":2}}},
        "health":{"run":0,"passed":true,"detail":"ok","time":1765000002.0,"consecutive_failures":0}}
        """#

    func liveRoot(_ directory: TemporaryDirectory) throws -> String {
        let builder = TaskRootBuilder(root: directory.path)
        _ = try builder.addSimpleTask("live", directory: .active, processes: [.init("web", .running, pid: 999_999)], finalState: nil)
        return TaskPath.probeStatus(root: directory.path, taskID: "live")
    }

    @Test func aWellFormedDocumentIsServedAndGauged() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try liveRoot(directory)
        TaskRootBuilder(root: directory.path).writeFile(path, Array(Self.document.utf8))
        try await withObserver([directory.path]) { observer, client in
            let probes = try #require(TaskFiles(observer: observer).probes("live"))
            #expect(probes.processes["web"]?.ready == true && probes.health?.detail == "ok")
            try await client.execute(uri: "/j/task/live", method: .get) { response in
                let task = try #require(try object(response)["live"] as? [String: Any])
                let web = try #require((task["probes"] as? [String: Any])?["web"] as? [String: Any])
                #expect(web["ready"] as? Bool == true)
                #expect((web["readiness"] as? [String: Any])?["time"] as? Double == 1765000000.5)
                #expect((web["liveness"] as? [String: Any])?["consecutive_failures"] as? Int == 2)
                #expect((task["health"] as? [String: Any])?["passed"] as? Bool == true)
                #expect(task["stopped"] == nil)
            }
            try await client.execute(uri: "/j/process/live/web", method: .get) { response in
                let process = try object(response)
                #expect(process["ready"] as? Bool == true)
                #expect((process["readiness"] as? [String: Any])?["detail"] as? String == "HTTP 200")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains(#"thermos_process_ready{task_id="live",process="web"} 1"#), "\(body)")
                #expect(body.contains(#"thermos_process_probe_failures{task_id="live",process="web",probe="liveness"} 2"#), "\(body)")
                #expect(body.contains(#"thermos_process_probe_failures{task_id="live",process="web",probe="readiness"} 0"#), "\(body)")
            }
            // The document goes: so do the gauges.
            unlink(path)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(!String(buffer: response.body).contains("thermos_process_ready{"))
            }
        }
    }

    @Test func hostileOrBrokenFilesAreNoData() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try liveRoot(directory)
        let builder = TaskRootBuilder(root: directory.path)
        let target = directory.path + "/elsewhere.json"
        builder.writeFile(target, Array(Self.document.utf8))
        let padded = Array(Self.document.utf8)
            + [UInt8](repeating: UInt8(ascii: " "), count: ProbeStatusDocument.maximumSize + 1 - Self.document.utf8.count)
        let variants: [(String, @Sendable () -> Void)] = [
            ("symlink", { symlink(target, path) }),
            ("fifo", { mkfifo(path, 0o644) }),
            ("oversized", { builder.writeFile(path, padded) }),
            ("malformed", { builder.writeFile(path, Array(#"{"processes": {"web": {"ready": "yes"}}}"#.utf8)) }),
            ("not json", { builder.writeFile(path, Array("{\"processes\":".utf8)) }),
        ]
        try await withObserver([directory.path]) { observer, client in
            // A FIFO opened blocking would hang here: the suite's time limit is the guard (no timing asserts).
            for (name, make) in variants {
                unlink(path)
                make()
                #expect(TaskFiles(observer: observer).probes("live") == nil, "\(name)")
                try await client.execute(uri: "/j/task/live", method: .get) { response in
                    let task = try #require(try object(response)["live"] as? [String: Any])
                    #expect(task["probes"] == nil && task["state"] as? String == "ACTIVE", "\(name)")
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(!String(buffer: response.body).contains("thermos_process_ready{"), "\(name)")
                }
            }
        }
        // Exactly at the cap a (padded) document is still read.
        unlink(path)
        builder.writeFile(path, Array(padded.dropLast()))
        #expect(ProbeStatusDocument(bytes: Array(padded.dropLast())) != nil)
        #expect(ProbeStatusDocument(bytes: padded) == nil)
    }
}
