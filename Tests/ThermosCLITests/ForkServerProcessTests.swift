import CThermosSys
import Glibc
import Testing
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform
import ThermosTestSupport

/// `thermos-coordinator --fork-server` driven directly by the test, as the runner drives it:
/// `ready` first, a coordinator forked per request that runs its command and records it, no
/// zombie, malformed requests refused without harm, and an exit when its runner goes away.
@Suite(.timeLimit(.minutes(3)))
struct ForkServerProcessTests {
    /// The server and the test's end of its socket.
    struct Server {
        let pid: Int32
        let socket: Int32

        init(sandbox: String) throws {
            var pair: [Int32] = [-1, -1]
            #expect(cthermos_seqpacket_pair(&pair) == 0)
            defer { close(pair[1]) }
            let binary = TestPaths.builtBinary("thermos-coordinator")
            var request = SpawnRequest(executable: binary, arguments: ForkServerProtocol.serverArguments(binary: binary, sandbox: sandbox))
            request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 3: .inherit(pair[1])]
            request.newSession = true
            pid = try request.spawn()
            socket = pair[0]
        }

        func send(_ payload: [UInt8], descriptors: [Int32]) -> Int32 {
            payload.withUnsafeBytes { bytes in
                descriptors.withUnsafeBufferPointer {
                    cthermos_send_with_fds(socket, bytes.baseAddress, bytes.count, $0.baseAddress, Int32($0.count))
                }
            }
        }

        func reply() throws -> ForkServerProtocol.Reply {
            #expect(cthermos_wait_readable(socket, 10_000) == 1)
            var bytes = [UInt8](repeating: 0, count: 16)
            let count = bytes.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            return try ForkServerProtocol.decodeReply(Array(bytes.prefix(max(count, 0))))
        }

        /// Closes our end (the server exits) and reaps it; its exit status.
        func stop() -> Int32 {
            close(socket)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return status
        }
    }

    @Test func forksACoordinatorPerRequestAndRefusesMalformedOnes() throws {
        let directory = TemporaryDirectory(prefix: "thermos-forkserver")
        defer { directory.remove() }
        let sandbox = directory.path
        let server = try Server(sandbox: sandbox)
        #expect(try server.reply() == .ready(pid: server.pid))
        #expect(threadCount(server.pid) == 1)

        // Garbage, and a good request with one descriptor short: refused, the server lives on.
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        #expect(server.send(Array("nonsense".utf8), descriptors: [null, null]) == 0)
        #expect(try server.reply() == .refused(errno: EINVAL))
        #expect(server.send(ForkServerProtocol.encodeRequest(["--process", "p"]), descriptors: [null]) == 0)
        #expect(try server.reply() == .refused(errno: EINVAL))

        // A real run: the locked stream and a handshake socket go over, FORKED is ours to write.
        let checkpoint = sandbox + "/coordinator.p"
        let stream = try CheckpointWriter(path: checkpoint, policy: .none, lock: true)
        var handshake: [Int32] = [-1, -1]
        #expect(cthermos_seqpacket_pair(&handshake) == 0)
        let forkTime = SystemWallClock().now()
        var invocation = CoordinatorInvocation(
            checkpoint: checkpoint, process: "p", seq: 1, forkTime: forkTime, cmdline: "echo $$ > out; echo hi >&2",
            sandbox: sandbox, logDirectory: sandbox + "/.logs/p/0")
        invocation.fsync = .none
        #expect(server.send(ForkServerProtocol.encodeRequest(invocation.arguments), descriptors: [stream.fileDescriptor, handshake[1]]) == 0)
        close(handshake[1])
        guard case .forked(let child) = try server.reply() else {
            Issue.record("no fork")
            return
        }
        #expect(ProcessTable.entry(child)?.parentPid == server.pid)
        // Its own session and group (set by the child right after the fork).
        #expect(eventually(timeout: 10) { ProcessTable.entry(child).map { $0.session == child && $0.processGroup == child } ?? false })
        try stream.append(.processStatus(ProcessStatus(seq: 1, process: "p", state: .forked, coordinatorPid: child, forkTime: forkTime)))
        try stream.close()
        var go: UInt8 = 1
        #expect(write(handshake[0], &go, 1) == 1)
        close(handshake[0])
        // The coordinator ran its command and recorded it; the kernel reaped it at once (no zombie).
        #expect(eventually(timeout: 10) { !isAlive(child) && processState(child) == nil })
        let records = try CheckpointReader.read(path: checkpoint).records.compactMap { record -> ProcessStatus? in
            if case .processStatus(let status) = record { return status }
            return nil
        }
        #expect(records.map(\.state) == [.forked, .running, .success])
        let command = try #require(records.dropFirst().first?.pid)
        #expect(readBytes(sandbox + "/out").map { String(decoding: $0, as: UTF8.self) } == "\(command)\n")
        #expect(readBytes(sandbox + "/.logs/p/0/stderr").map { String(decoding: $0, as: UTF8.self) } == "hi\n")

        // A request whose runner goes away before FORKED: the child finds no FORKED of its own
        // and runs nothing.
        let second = try CheckpointWriter(path: checkpoint, policy: .none, lock: false)
        var lost: [Int32] = [-1, -1]
        #expect(cthermos_seqpacket_pair(&lost) == 0)
        invocation.seq = 4
        invocation.cmdline = "echo ran > lost"
        #expect(server.send(ForkServerProtocol.encodeRequest(invocation.arguments), descriptors: [second.fileDescriptor, lost[1]]) == 0)
        close(lost[1])
        guard case .forked(let orphan) = try server.reply() else {
            Issue.record("no fork")
            return
        }
        close(lost[0])
        try second.close()
        #expect(eventually(timeout: 10) { processState(orphan) == nil })
        #expect(readBytes(sandbox + "/lost") == nil)

        // The runner's end closes: the server exits cleanly.
        #expect(server.stop() == 0)
    }
}
