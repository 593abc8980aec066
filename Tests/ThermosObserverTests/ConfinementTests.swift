import CThermosConfine
import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import Testing
import ThermosCheckpoint
import ThermosObserver
import ThermosTestSupport
import Synchronization

/// Swaps two names in one directory up to `count` times on its own thread (a task racing the
/// observer) until `stop()`.
final class Swapper: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let done = Atomic<Int>(0)

    init(directory: String, _ first: String, _ second: String, count: Int) {
        let thread = Thread { [self] in
            let fd = open(directory, O_RDONLY | O_DIRECTORY)
            var swaps = 0
            while swaps < count, !stopping.load(ordering: .relaxed) {
                if cthermos_rename_exchange(fd, first, fd, second) == 0 { swaps += 1 }
            }
            close(fd)
            done.store(swaps, ordering: .relaxed)
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Stops the swapping and returns the number of swaps done.
    func stop() -> Int {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
        return done.load(ordering: .relaxed)
    }
}

/// Counts of outcomes, shared with the request loop.
final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }
    subscript(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
}

/// Confinement by construction: a task that swaps links into its sandbox or log directory while
/// requests are in flight never gets an outside file served (zero leaks over every request).
@Suite(.serialized) struct ConfinementTests {
    @Test func sandboxDirectorySwappedForALinkNeverLeaks() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        let (sandbox, _) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        builder.makeDirectories(directory.path + "/outside")
        builder.writeFile(directory.path + "/outside/f", Array("SECRET".utf8))
        builder.makeDirectories(sandbox + "/dir")
        builder.writeFile(sandbox + "/dir/f", Array("inside".utf8))
        symlink(directory.path + "/outside", sandbox + "/swap")
        // A FIFO takes the file's place half the time in the second pair.
        builder.makeDirectories(sandbox + "/pipes")
        builder.writeFile(sandbox + "/pipes/f", Array("inside".utf8))
        mkfifo(sandbox + "/pipes/g", 0o644)
        let swapper = Swapper(directory: sandbox, "dir", "swap", count: 200_000)
        let fifoSwapper = Swapper(directory: sandbox + "/pipes", "f", "g", count: 200_000)
        let tally = Tally()
        try await withObserver([directory.path + "/root"]) { _, client in
            for round in 0..<300 {
                for uri in ["/filedata/t/dir/f?offset=0", "/download/t/dir/f", "/filedata/t/pipes/f?offset=0", "/download/t/pipes/f"] {
                    let body = try await client.execute(uri: uri, method: .get) { String(buffer: $0.body) }
                    if body.contains("SECRET") { tally.add("leaks") }
                    if body.contains("inside") { tally.add("served") }
                }
                if round % 50 == 0 { await Task.yield() }
            }
        }
        let swaps = swapper.stop() + fifoSwapper.stop()
        #expect(tally["leaks"] == 0, "\(tally["leaks"]) outside files served")
        #expect(tally["served"] > 0, "nothing served at all")
        #expect(swaps > 0)
    }

    @Test func logDirectoryReplacedByALinkNeverLeaks() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        let (sandbox, logDir) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        // Another task's logs, and the system root, as link targets.
        let (_, otherLogs) = try builder.addSimpleTask("other", directory: .active, processes: [.init("p", .running)], finalState: nil)
        builder.writeFile(otherLogs + "/p/0/stdout", Array("SECRET of other\n".utf8))
        symlink(otherLogs, sandbox + "/.logs-swap")
        let swapper = Swapper(directory: sandbox, ".logs", ".logs-swap", count: 200_000)
        let tally = Tally()
        try await withObserver([directory.path + "/root"]) { _, client in
            for _ in 0..<600 {
                let body = try await client.execute(uri: "/logdata/t/p/0/stdout?offset=0", method: .get) { String(buffer: $0.body) }
                if body.contains("SECRET") { tally.add("leaks") }
                if body.contains("hello from p") { tally.add("served") }
            }
        }
        #expect(swapper.stop() > 0)
        #expect(tally["leaks"] == 0, "\(tally["leaks"]) foreign logs served")
        #expect(tally["served"] > 0)
        // `ln -s / .logs`: nothing beneath the link is served, with no race at all.
        rename(logDir, sandbox + "/.logs-real")
        unlink(sandbox + "/.logs")
        symlink("/", sandbox + "/.logs")
        try await withObserver([directory.path + "/root"]) { _, client in
            for uri in ["/logdata/t/p/0/stdout?offset=0", "/logdata/t/etc/0/stdout?offset=0", "/logdata/t/..%2Fetc/0/stdout?offset=0"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(String(buffer: response.body) == "{}", "\(uri)")
                }
            }
        }
        // A FIFO as a log: refused at once, never read.
        unlink(sandbox + "/.logs")
        rename(sandbox + "/.logs-real", logDir)
        unlink(logDir + "/p/0/stdout")
        mkfifo(logDir + "/p/0/stdout", 0o644)
        try await withObserver([directory.path + "/root"]) { _, client in
            try await client.execute(uri: "/logdata/t/p/0/stdout?offset=0", method: .get) { response in
                #expect(String(buffer: response.body) == "{}")
            }
        }
    }

    @Test func aReplacedSandboxServesNothing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        let (sandbox, _) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        builder.writeFile(sandbox + "/f", Array("first".utf8))
        try await withObserver([directory.path + "/root"]) { _, client in
            try await client.execute(uri: "/filedata/t/f?offset=0", method: .get) { response in
                #expect(String(buffer: response.body).contains("first"))
            }
            // gc'ed and recreated at the same path.
            rename(sandbox, sandbox + ".old")
            builder.makeDirectories(sandbox)
            builder.writeFile(sandbox + "/f", Array("second".utf8))
            try await client.execute(uri: "/filedata/t/f?offset=0", method: .get) { response in
                #expect(String(buffer: response.body) == "{}")
            }
            try await client.execute(uri: "/browse/t", method: .get) { response in
                #expect(!String(buffer: response.body).contains("href=\"/file/t/f\""))
            }
            // Swapped for a link to the old directory: still refused (O_NOFOLLOW on the sandbox).
            rename(sandbox, sandbox + ".new")
            symlink(sandbox + ".old", sandbox)
            try await client.execute(uri: "/filedata/t/f?offset=0", method: .get) { response in
                #expect(String(buffer: response.body) == "{}")
            }
        }
    }
}
