import Glibc
import Testing
import ThermosPlatform
import ThermosTestSupport

/// `LogFollower` against real files: lines, runs, rotation, and a task that turns its logs
/// into traps (FIFOs, symlinks, huge lines). Every wait is bounded (5 s); no suite time limit,
/// which a loaded machine running the whole package in parallel trips before these even start.
struct LogFollowerTests {
    /// A sandbox with `.logs`, helpers to write logs, and a follower's collected lines.
    struct Sandbox {
        let directory = TemporaryDirectory(prefix: "thermos-follow")
        var path: String { directory.path + "/sandbox" }
        var logs: String { path + "/.logs" }

        init() { mkdir(directory.path + "/sandbox", 0o755) }

        func makeRun(_ process: String, _ run: Int) {
            mkdir(logs, 0o755)
            mkdir("\(logs)/\(process)", 0o755)
            mkdir("\(logs)/\(process)/\(run)", 0o755)
        }

        func append(_ process: String, _ run: Int, _ text: String) {
            append(process, run, "stdout", text)
        }

        func append(_ process: String, _ run: Int, _ stream: String, _ text: String) {
            let fd = open("\(logs)/\(process)/\(run)/\(stream)", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            precondition(fd >= 0)
            try? Files.writeAll(fd, text)
            close(fd)
        }

        func follower(_ processes: [String], options: LogFollower.Options = LogFollower.Options(), reports: Reports? = nil) throws -> LogFollower {
            try LogFollower(logDirectory: logs, anchor: path, processes: processes, options: options) { reports?.messages.append($0) }
        }
    }

    final class Reports {
        var messages: [String] = []
    }

    static func text(_ lines: [LogLine]) -> [String] {
        lines.map { "\($0.process)/\($0.run)/\($0.stream.fileName): \(String(decoding: $0.bytes, as: UTF8.self))" }
    }

    static func update(_ follower: LogFollower) -> [String] {
        var lines: [LogLine] = []
        follower.update { lines.append($0) }
        return text(lines)
    }

    static func finish(_ follower: LogFollower) -> [String] {
        var lines: [LogLine] = []
        follower.finish { lines.append($0) }
        return text(lines)
    }

    @Test func emitsCompleteLinesAndKeepsThePartialOneUntilTheEnd() throws {
        let sandbox = Sandbox()
        defer { sandbox.directory.remove() }
        let follower = try sandbox.follower(["web", "worker"])
        #expect(Self.update(follower).isEmpty)
        sandbox.makeRun("web", 0)
        sandbox.append("web", 0, "one\ntw")
        sandbox.append("web", 0, "stderr", "oops\n")
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower) == ["web/0/stdout: one", "web/0/stderr: oops"])
        sandbox.append("web", 0, "o\nthree")
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower) == ["web/0/stdout: two"])
        #expect(Self.finish(follower) == ["web/0/stdout: three"])
    }

    @Test func movesOnToANewRunAfterReadingTheOldOneToItsEnd() throws {
        let sandbox = Sandbox()
        defer { sandbox.directory.remove() }
        sandbox.makeRun("web", 0)
        sandbox.append("web", 0, "first run\n")
        let follower = try sandbox.follower(["web"])
        #expect(Self.update(follower) == ["web/0/stdout: first run"])
        sandbox.append("web", 0, "last words")
        sandbox.makeRun("web", 1)
        sandbox.append("web", 1, "second run\n")
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower) == ["web/0/stdout: last words", "web/1/stdout: second run"])
        sandbox.append("web", 0, "late write to an old run\n")
        #expect(Self.finish(follower).isEmpty)
    }

    @Test func startsAtTheLastLinesAndSplitsOverlongLines() throws {
        let sandbox = Sandbox()
        defer { sandbox.directory.remove() }
        sandbox.makeRun("p", 0)
        sandbox.append("p", 0, (1...50).map { "line \($0)\n" }.joined())
        let follower = try sandbox.follower(["p"], options: LogFollower.Options(maxLineBytes: 4, startAtLastLines: 2))
        #expect(Self.update(follower) == ["p/0/stdout: line", "p/0/stdout:  49", "p/0/stdout: line", "p/0/stdout:  50"])
        sandbox.append("p", 0, String(repeating: "x", count: 10))
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower) == ["p/0/stdout: xxxx", "p/0/stdout: xxxx"])
        #expect(Self.finish(follower) == ["p/0/stdout: xx"])
    }

    @Test func followsARotatedFileIntoItsSuccessor() throws {
        let sandbox = Sandbox()
        defer { sandbox.directory.remove() }
        sandbox.makeRun("p", 0)
        sandbox.append("p", 0, "a\n")
        let follower = try sandbox.follower(["p"])
        #expect(Self.update(follower) == ["p/0/stdout: a"])
        sandbox.append("p", 0, "b\n")
        rename("\(sandbox.logs)/p/0/stdout", "\(sandbox.logs)/p/0/stdout.1")
        sandbox.append("p", 0, "c\n")
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower) == ["p/0/stdout: b", "p/0/stdout: c"])
    }

    @Test func neverOpensAFIFOAndNeverFollowsASymlink() throws {
        let sandbox = Sandbox()
        defer { sandbox.directory.remove() }
        let outside = sandbox.directory.write("secret", "secret line\n")
        sandbox.makeRun("fifo", 0)
        #expect(mkfifo("\(sandbox.logs)/fifo/0/stdout", 0o644) == 0)
        sandbox.makeRun("link", 0)
        #expect(symlink(outside, "\(sandbox.logs)/link/0/stdout") == 0)
        mkdir(sandbox.logs, 0o755)
        mkdir(sandbox.directory.path + "/elsewhere", 0o755)
        mkdir(sandbox.directory.path + "/elsewhere/0", 0o755)
        _ = sandbox.directory.write("elsewhere/0/stdout", "outside the sandbox\n")
        #expect(symlink(sandbox.directory.path + "/elsewhere", "\(sandbox.logs)/dirlink") == 0)
        let reports = Reports()
        let follower = try sandbox.follower(["fifo", "link", "dirlink"], reports: reports)
        #expect(Self.update(follower).isEmpty)
        #expect(Self.finish(follower).isEmpty)
        #expect(reports.messages.count == 3)
        #expect(reports.messages.allSatisfy { $0.contains("not a regular file or directory") })
    }

    @Test func aLogDirectorySwappedForASymlinkIsNotFollowed() throws {
        let sandbox = Sandbox()
        defer { sandbox.directory.remove() }
        mkdir(sandbox.directory.path + "/elsewhere", 0o755)
        mkdir(sandbox.directory.path + "/elsewhere/p", 0o755)
        mkdir(sandbox.directory.path + "/elsewhere/p/0", 0o755)
        _ = sandbox.directory.write("elsewhere/p/0/stdout", "outside\n")
        let follower = try sandbox.follower(["p"])
        #expect(symlink(sandbox.directory.path + "/elsewhere", sandbox.logs) == 0)
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower).isEmpty)
        #expect(Self.finish(follower).isEmpty)
        // Made a real directory again, it is picked up.
        unlink(sandbox.logs)
        sandbox.makeRun("p", 0)
        sandbox.append("p", 0, "inside\n")
        #expect(follower.wait(timeout: 5))
        #expect(Self.update(follower) == ["p/0/stdout: inside"])
    }

    @Test func removeTreeRemovesLinksButNotWhatTheyPointAt() throws {
        let directory = TemporaryDirectory(prefix: "thermos-remove")
        defer { directory.remove() }
        let keep = directory.write("outside/keep", "keep me")
        let tree = directory.path + "/sandbox"
        try Files.makeDirectories(tree + "/a/b/c")
        _ = directory.write("sandbox/a/b/c/file", "x")
        #expect(symlink(directory.path + "/outside", tree + "/a/link") == 0)
        #expect(mkfifo(tree + "/a/fifo", 0o644) == 0)
        let summary = Files.removeTree(tree)
        #expect(summary.left == 0)
        #expect(summary.removed == 7)
        #expect(!Files.exists(tree))
        #expect(Files.text(of: keep) == "keep me")
        #expect(Files.removeTree(tree).removed == 0)
    }
}
