import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import ThermosObserver
import ThermosTestSupport

/// No number in a URL can crash the observer: the URLs that ended in "arithmetic overflow",
/// and every paging/offset parameter at the 64-bit extremes.
@Suite struct OverflowTests {
    static let extremes = ["9223372036854775807", "-9223372036854775808", "-9223372036854775807", "-1", "0", "99999999999999999999", "x"]

    @Test func theReportedURLsAnswer() async throws {
        try await withObserver([TestPaths.auroraRoot]) { _, client in
            try await client.execute(uri: "/main/all/9223372036854775807/20", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("No all tasks."))
            }
            try await client.execute(uri: "/main/all/5/-9223372036854775808", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/j/task_ids/all/-9223372036854775808/20", method: .get) { response in
                let page = try object(response)
                #expect(page["offset"] as? Int == 0 && (page["tasks"] as? [Any])?.count == 7)
            }
            try await client.execute(uri: "/j/task_ids/all/9223372036854775807/9223372036854775807", method: .get) { response in
                let page = try object(response)
                #expect((page["tasks"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/j/task_ids/all/-1/-9223372036854775808", method: .get) { response in
                let page = try object(response)
                #expect((page["tasks"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/logdata/hello_world/echo/0/stdout?offset=9223372036854775807&length=9223372036854775807", method: .get) {
                #expect(String(buffer: $0.body) == #"{"offset": 9223372036854775807, "length": 0}"#)
            }
            try await client.execute(uri: "/logdata/hello_world/echo/0/stdout?offset=-9223372036854775808&length=-9223372036854775808", method: .get) {
                #expect(String(buffer: $0.body) == #"{"offset": 0, "length": 0}"#)
            }
            try await client.execute(uri: "/logdata/hello_world/echo/0/stdout?offset=1&length=9223372036854775807", method: .get) {
                #expect(String(buffer: $0.body) == #"{"offset": 1, "length": 11, "data": "ello world\n"}"#)
            }
            try await client.execute(uri: "/j/process/failure_limit/a/-9223372036854775808", method: .get) {
                #expect(String(buffer: $0.body) == "{}")
            }
        }
    }

    @Test func everyNumericParameterAtTheExtremes() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        let (sandbox, _) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        builder.writeFile(sandbox + "/f", Array("0123456789".utf8))
        try await withObserver([directory.path, TestPaths.auroraRoot]) { _, client in
            for a in Self.extremes {
                var uris = [
                    "/j/task_ids/all/\(a)", "/main/all/\(a)", "/j/process/t/p/\(a)", "/logs/t/p/\(a)/stdout", "/browse/t?offset=\(a)",
                    "/logdata/t/p/\(a)/stdout?offset=0", "/filedata/t/f?offset=\(a)", "/filedata/t/f?length=\(a)",
                ]
                for b in Self.extremes {
                    uris += [
                        "/j/task_ids/all/\(a)/\(b)", "/j/task_ids/finished/\(a)/\(b)", "/main/all/\(a)/\(b)", "/main/finished/\(a)/\(b)",
                        "/logdata/t/p/0/stdout?offset=\(a)&length=\(b)", "/filedata/t/f?offset=\(a)&length=\(b)",
                    ]
                }
                for uri in uris {
                    try await client.execute(uri: uri, method: .get) { response in
                        #expect([.ok, .notFound, .internalServerError].contains(response.status), "\(uri): \(response.status)")
                    }
                }
            }
        }
    }
}
