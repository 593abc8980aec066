import CThermosSys
import Glibc
import Testing
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform
import ThermosTestSupport

/// `thermos-coordinator --fork-server` driven directly by the test, as the runner drives it:
/// `ready` first, spares forked per request and handed over with their sockets, each running the
/// one run it is given and recording it, no zombie, malformed requests refused without harm, a
/// spare whose runner goes away running nothing, and an exit when its runner goes away.
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
            SocketMessage.send(payload, descriptors: descriptors, on: socket)
        }

        /// The next reply and the descriptors attached to it.
        func reply() throws -> (ForkServerProtocol.Reply, [Int32]) {
            #expect(cthermos_wait_readable(socket, 10_000) == 1)
            var bytes = [UInt8](repeating: 0, count: ForkServerProtocol.largestReply)
            var descriptors = [Int32](repeating: -1, count: ForkServerProtocol.sparesPerReply)
            var count: Int32 = 0
            var truncated: Int32 = 0
            let received = bytes.withUnsafeMutableBytes {
                cthermos_receive_with_fds(socket, $0.baseAddress, $0.count, &descriptors, Int32(descriptors.count), &count, &truncated)
            }
            #expect(truncated == 0)
            return (try ForkServerProtocol.decodeReply(Array(bytes.prefix(max(received, 0)))), Array(descriptors.prefix(Int(count))))
        }

        /// Asks for `count` spares (at most one reply's worth): their pids and sockets.
        func spares(_ count: Int) throws -> [(pid: Int32, socket: Int32)] {
            #expect(send(ForkServerProtocol.encodeSpareRequest(count: count), descriptors: []) == 0)
            let (answer, sockets) = try reply()
            guard case .spares(let pids) = answer, pids.count == count, sockets.count == count else {
                Issue.record("no spares: \(answer), \(sockets.count) sockets")
                return []
            }
            return Array(zip(pids, sockets))
        }

        /// Closes our end (the server exits) and reaps it; its exit status.
        func stop() -> Int32 {
            close(socket)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return status
        }
    }

    @Test func forksSparesThatEachRunTheOneRunTheyAreGiven() throws {
        let directory = TemporaryDirectory(prefix: "thermos-forkserver")
        defer { directory.remove() }
        let sandbox = directory.path
        let server = try Server(sandbox: sandbox)
        #expect(try server.reply().0 == .ready(pid: server.pid))
        #expect(threadCount(server.pid) == 1)

        // Garbage, a spare request with a descriptor attached, or for no spares: refused, the
        // server lives on.
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        #expect(server.send(Array("nonsense".utf8), descriptors: []) == 0)
        #expect(try server.reply().0 == .refused(errno: EINVAL))
        #expect(server.send(ForkServerProtocol.encodeSpareRequest(count: 1), descriptors: [null]) == 0)
        #expect(try server.reply().0 == .refused(errno: EINVAL))
        #expect(server.send(ForkServerProtocol.encodeSpareRequest(count: 0), descriptors: []) == 0)
        #expect(try server.reply().0 == .refused(errno: EINVAL))

        // Spares: children of the server, each in a session and group of its own, waiting.
        let spares = try server.spares(3)
        try #require(spares.count == 3)
        for spare in spares {
            #expect(ProcessTable.entry(spare.pid)?.parentPid == server.pid)
            #expect(eventually(timeout: 10) { ProcessTable.entry(spare.pid).map { $0.session == spare.pid && $0.processGroup == spare.pid } ?? false })
            #expect(commandLine(spare.pid).contains(ForkServerProtocol.forkedLabel))
        }

        // A real run: the arguments and the locked stream go to the spare, FORKED is ours to
        // write, then the go-ahead on the same socket.
        let checkpoint = sandbox + "/coordinator.p"
        let stream = try CheckpointWriter(path: checkpoint, policy: .none, lock: true)
        let forkTime = SystemWallClock().now()
        var invocation = CoordinatorInvocation(
            checkpoint: checkpoint, process: "p", seq: 1, forkTime: forkTime, cmdline: "echo $$ > out; echo hi >&2",
            sandbox: sandbox, logDirectory: sandbox + "/.logs/p/0")
        invocation.fsync = .none
        let runner = spares[0]
        #expect(SocketMessage.send(ForkServerProtocol.encodeRequest(invocation.arguments), descriptors: [stream.fileDescriptor], on: runner.socket) == 0)
        try stream.append(.processStatus(ProcessStatus(seq: 1, process: "p", state: .forked, coordinatorPid: runner.pid, forkTime: forkTime)))
        try stream.close()
        var go: UInt8 = 1
        #expect(write(runner.socket, &go, 1) == 1)
        close(runner.socket)
        // The coordinator ran its command and recorded it; the kernel reaped it at once (no zombie).
        #expect(eventually(timeout: 10) { !isAlive(runner.pid) && processState(runner.pid) == nil })
        let records = try CheckpointReader.read(path: checkpoint).records.compactMap { record -> ProcessStatus? in
            if case .processStatus(let status) = record { return status }
            return nil
        }
        #expect(records.map(\.state) == [.forked, .running, .success])
        let command = try #require(records.dropFirst().first?.pid)
        #expect(readBytes(sandbox + "/out").map { String(decoding: $0, as: UTF8.self) } == "\(command)\n")
        #expect(readBytes(sandbox + "/.logs/p/0/stderr").map { String(decoding: $0, as: UTF8.self) } == "hi\n")

        // A run whose runner goes away before FORKED: the spare finds no FORKED of its own and
        // runs nothing.
        let second = try CheckpointWriter(path: checkpoint, policy: .none, lock: false)
        invocation.seq = 4
        invocation.cmdline = "echo ran > lost"
        let orphan = spares[1]
        #expect(SocketMessage.send(ForkServerProtocol.encodeRequest(invocation.arguments), descriptors: [second.fileDescriptor], on: orphan.socket) == 0)
        close(orphan.socket)
        try second.close()
        #expect(eventually(timeout: 10) { processState(orphan.pid) == nil })
        #expect(readBytes(sandbox + "/lost") == nil)

        // A spare retired unused (its socket closed) exits without a trace.
        close(spares[2].socket)
        #expect(eventually(timeout: 10) { processState(spares[2].pid) == nil })
        #expect(children(of: server.pid).isEmpty)

        // The runner's end closes: the server exits cleanly.
        #expect(server.stop() == 0)
    }

    /// A spare given something that is not a run (no stream attached, or bytes that do not parse)
    /// exits without running anything; the server carries on.
    @Test func aSpareGivenAMalformedRunExitsWithoutRunning() throws {
        let directory = TemporaryDirectory(prefix: "thermos-forkserver")
        defer { directory.remove() }
        let server = try Server(sandbox: directory.path)
        #expect(try server.reply().0 == .ready(pid: server.pid))
        let spares = try server.spares(2)
        try #require(spares.count == 2)
        let invocation = CoordinatorInvocation(
            checkpoint: directory.path + "/coordinator.p", process: "p", seq: 1, forkTime: 1, cmdline: "echo ran > ran",
            sandbox: directory.path, logDirectory: directory.path + "/.logs/p/0")
        #expect(SocketMessage.send(ForkServerProtocol.encodeRequest(invocation.arguments), descriptors: [], on: spares[0].socket) == 0)
        #expect(SocketMessage.send(Array("nonsense".utf8), descriptors: [], on: spares[1].socket) == 0)
        for spare in spares {
            #expect(eventually(timeout: 10) { processState(spare.pid) == nil })
            close(spare.socket)
        }
        #expect(readBytes(directory.path + "/ran") == nil)
        // The server carries on: a new spare, retired at once.
        let next = try server.spares(1)
        #expect(next.count == 1)
        for spare in next { close(spare.socket) }
        #expect(server.stop() == 0)
    }
}
