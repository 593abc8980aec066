import Glibc
import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import ThermosObserver
import ThermosTestSupport

/// Files outside a task's sandbox or log directory are never served (DESIGN §2.8).
@Suite struct TraversalTests {
    @Test func escapesAreRefused() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        let (sandbox, logDir) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        directory.write("secret", "top secret")
        builder.writeFile(sandbox + "/ok.txt", Array("fine".utf8))
        symlink("/etc/passwd", sandbox + "/passwd")
        symlink(directory.path + "/secret", logDir + "/p/0/stderr-link")
        unlink(logDir + "/p/0/stderr")
        symlink("/etc/passwd", logDir + "/p/0/stderr")
        mkfifo(sandbox + "/fifo", 0o644)
        symlink(sandbox + "/ok.txt", sandbox + "/inside-link")
        try await withObserver([directory.path + "/root"]) { _, client in
            let refused = [
                "/filedata/t/..%2F..%2Fsecret", "/filedata/t/%2E%2E/%2E%2E/secret", "/filedata/t/../../secret",
                "/filedata/t/%2Fetc%2Fpasswd", "/filedata/t//etc/passwd", "/filedata/t/passwd", "/filedata/t/fifo",
                "/filedata/t/.", "/filedata/nope/ok.txt", "/logdata/t/p/0/stderr", "/logdata/t/..%2F..%2F..%2F..%2Fsecret/0/stdout",
            ]
            for uri in refused {
                try await client.execute(uri: uri + "?offset=0", method: .get) { response in
                    #expect(String(buffer: response.body) == "{}", "\(uri) was served")
                }
            }
            for uri in ["/download/t/passwd", "/download/t/..%2F..%2Fsecret", "/download/t/fifo"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri) was served")
                }
            }
            try await client.execute(uri: "/filedata/t/inside-link?offset=0", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""data": "fine""#))
            }
            try await client.execute(uri: "/download/t/ok.txt", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "fine")
                #expect(response.headers[.contentType] == "application/octet-stream")
            }
        }
    }
}
