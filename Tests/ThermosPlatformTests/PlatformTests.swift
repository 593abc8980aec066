import Glibc
import Testing
import ThermosPlatform
import ThermosTestSupport

/// The platform layer against the real kernel: files, spawning, /proc, inotify.
struct PlatformTests {
    @Test func filesWriteReadAndReplace() throws {
        let directory = TemporaryDirectory(prefix: "thermos-platform")
        defer { directory.remove() }
        let nested = directory.path + "/a/b/c"
        try Files.makeDirectories(nested)
        try Files.makeDirectories(nested)
        #expect(Files.exists(nested))
        let path = nested + "/file"
        let text = String(repeating: "0123456789", count: 20_000)
        try Files.replaceDurably(path, with: text)
        #expect(Files.text(of: path) == text)
        #expect(try Files.read(path: path, from: 199_990) == Array("0123456789".utf8))
        try Files.replaceDurably(path, with: "short")
        #expect(Files.text(of: path) == "short")
        #expect(Files.contents(of: directory.path + "/missing") == nil)
        #expect(throws: PlatformError.self) { try Files.read(path: directory.path + "/missing") }
        #expect(throws: PlatformError.self) { try Files.makeDirectories(path + "/below-a-file") }
        #expect(Files.directory(of: path) == nested)
    }

    @Test func writeAllReportsTheErrno() {
        #expect(throws: PlatformError.self) { try Files.writeAll(-1, "x") }
        do {
            try Files.writeAll(-1, "x")
        } catch {
            #expect(error.errnoValue == EBADF)
        }
    }

    /// A child gets exactly the fds, directory, session and signal state asked for.
    @Test func spawnSetsUpTheChild() throws {
        let directory = TemporaryDirectory(prefix: "thermos-spawn")
        defer { directory.remove() }
        let output = directory.path + "/out"
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        // A descriptor without close-on-exec must not leak past the named ones.
        let leak = open("/dev/null", O_RDONLY)
        defer { close(leak) }
        var request = SpawnRequest(
            executable: "/bin/sh",
            arguments: ["/bin/sh", "-c", "pwd; ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; ps -o sid= -p $$"])
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 1: .inherit(fd), 2: .inherit(fd), 5: .inherit(fd)]
        request.directory = directory.path
        request.newSession = true
        request.blockedSignals = [SIGTERM]
        let pid = try request.spawn()
        close(fd)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        let lines = (Files.text(of: output) ?? "").split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == directory.path)
        // 0, 1, 2 and 5, plus the one `ls` opens to list /proc/self/fd; never `leak` above 5.
        let fds = lines[1].split(separator: " ").compactMap { Int32($0) }
        #expect(fds.prefix(3) == [0, 1, 2] && fds.contains(5) && fds.count == 5)
        #expect(!fds.contains(leak) || leak <= 5)
        // (ps pads the sid to its column width: several spaces once pids wrap to few digits.)
        #expect(lines[2].split(separator: " ").first.flatMap { Int32($0) } == pid)

        // The signal state, seen by a program that does not touch it (a shell resets its mask).
        let statusPath = directory.path + "/status"
        var grep = SpawnRequest(executable: "/bin/grep", arguments: ["/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"])
        grep.descriptors = [1: .open(statusPath, flags: O_WRONLY | O_CREAT | O_TRUNC)]
        grep.blockedSignals = [SIGTERM, SIGHUP]
        let grepPid = try grep.spawn()
        #expect(waitpid(grepPid, &status, 0) == grepPid)
        let masks = (Files.text(of: statusPath) ?? "").split(separator: "\n").map(String.init)
        // Only SIGHUP (bit 0) and SIGTERM (bit 14) blocked; no classic signal ignored.
        #expect(masks.first == "SigBlk:\t0000000000004001")
        #expect(masks.count == 2 && (UInt64(masks[1].dropFirst(8), radix: 16) ?? 1) & 0x7fff_ffff == 0)
    }

    @Test func spawnFailuresAreErrors() {
        #expect(throws: PlatformError.self) { try SpawnRequest(executable: "/nonexistent/binary").spawn() }
        var request = SpawnRequest(executable: "/bin/true")
        request.directory = "/nonexistent/directory"
        // glibc reports a failed file action (here the chdir) as the spawn's own error.
        #expect(throws: PlatformError.self) { _ = try request.spawn() }
    }

    @Test func processTableSeesUsAndOurChildren() throws {
        let me = try #require(ProcessTable.entry(getpid()))
        #expect(me.pid == getpid() && me.parentPid == getppid())
        #expect(me.uid == Int32(bitPattern: getuid()))
        #expect(abs(me.startTime - SystemWallClock().now()) < 3600 * 24 * 365)
        var request = SpawnRequest(executable: "/bin/sh", arguments: ["/bin/sh", "-c", "sleep 30 & wait"])
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 1: .open("/dev/null", flags: O_WRONLY), 2: .open("/dev/null", flags: O_WRONLY)]
        let child = try request.spawn()
        defer {
            kill(-child, SIGKILL)
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        var tree: Set<Int32> = []
        for _ in 0..<200 where tree.isEmpty {
            tree = ProcessTable.descendants(of: child, in: ProcessTable.snapshot())
            if tree.isEmpty { usleep(10_000) }
        }
        #expect(tree.count == 1)
        #expect(ProcessTable.snapshot()[child]?.parentPid == getpid())
        for grandchild in tree { kill(grandchild, SIGKILL) }
    }

    @Test func inotifyWakesOnWrites() throws {
        let directory = TemporaryDirectory(prefix: "thermos-inotify")
        defer { directory.remove() }
        let path = directory.write("stream", "")
        let inotify = try Inotify()
        try inotify.watch(path, for: .modified)
        #expect(!inotify.wait(timeout: 0))
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        try Files.writeAll(fd, "record")
        close(fd)
        #expect(inotify.wait(timeout: 5))
        #expect(!inotify.drain())
        #expect(throws: PlatformError.self) { try inotify.watch(directory.path + "/missing", for: .modified) }
    }
}
