import CThermosSys
import Glibc
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform

/// `thermos-coordinator --fork-server`: started once by the runner, it forks *spare* coordinators
/// ahead of need (no exec, no Swift start-up: each child is this process, its runtime and pages
/// shared copy-on-write). A spare sets itself up as a coordinator and waits on a socket of its
/// own, whose other end goes to the runner; starting a run then costs the runner one message to
/// a spare that already exists — the run's arguments and locked stream — instead of a fork round
/// trip on the launch's critical path (`ForkServerProtocol`).
///
/// Forking is safe because this process is single-threaded for its whole life: a synchronous
/// main, no Foundation, no Dispatch, no concurrency. It holds nothing of the runner's: it is
/// spawned with fds 0–2 and its control socket only, and closes each spare's socket ends as soon
/// as the spare and the runner have them, so no runner lock or checkpoint fd ever lives here.
///
/// Children are reaped by the kernel the moment they exit (SIGCHLD is ignored here, which makes
/// exited children disappear instead of staying zombies): the runner learns of a coordinator's
/// exit from its pidfd, and the exit code comes from the coordinator's stream. If the server dies,
/// its children (own sessions) are re-parented to the runner, a child subreaper, which reaps
/// them; the runner starts a new server for the next launch.
enum ForkServer {
    static let socket = ForkServerProtocol.serverSocketFD

    static func serve() -> Never {
        // Before SIGCHLD is ignored: the warm-up waits for the command it starts.
        warmUp()
        signal(SIGCHLD, SIG_IGN)
        guard reply(.ready(pid: getpid()), descriptors: []) else { exit(0) }
        // Allocated once: a spare request is a few bytes; anything longer is refused.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        var passed = [Int32](repeating: -1, count: 4)
        while true {
            var count: Int32 = 0
            var truncated: Int32 = 0
            let received = cthermos_receive_with_fds(
                socket, buffer.baseAddress, buffer.count, &passed, Int32(passed.count), &count, &truncated)
            // EOF: the runner is gone (or retired us), maybe leaving a reply unread (a reset).
            // Running coordinators carry on without us.
            if received == 0 || (received < 0 && errno == ECONNRESET) { exit(0) }
            if received < 0 {
                printError("thermos-coordinator --fork-server: cannot read from the runner: \(describeErrno(errno))")
                exit(71)
            }
            for fd in passed.prefix(Int(count)) { close(fd) }
            let request: Int
            do throws(ForkServerProtocol.Error) {
                guard truncated == 0, count == 0 else { throw ForkServerProtocol.Error("descriptors attached, or truncated") }
                request = try ForkServerProtocol.decodeSpareRequest(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
            } catch {
                printError("thermos-coordinator --fork-server: malformed request: \(error.message)")
                guard reply(.refused(errno: EINVAL), descriptors: []) else { exit(0) }
                continue
            }
            guard forkSpares(request) else { exit(0) }
        }
    }

    /// Forks `count` spares, sending them to the runner in batches of `sparesPerReply`; a failed
    /// fork ends the request with `refused`. False once the runner is gone.
    private static func forkSpares(_ count: Int) -> Bool {
        var remaining = count
        while remaining > 0 {
            var pids: [Int32] = []
            var ends: [Int32] = []
            var failure: Int32 = 0
            while pids.count < min(remaining, ForkServerProtocol.sparesPerReply) {
                var pair: [Int32] = [-1, -1]
                guard cthermos_seqpacket_pair(&pair) == 0 else {
                    failure = errno
                    break
                }
                let pid = fork()
                if pid == 0 { becomeSpare(socket: pair[1]) }
                close(pair[1])
                guard pid > 0 else {
                    failure = errno
                    close(pair[0])
                    break
                }
                pids.append(pid)
                ends.append(pair[0])
            }
            remaining -= pids.count
            let sent = pids.isEmpty || reply(.spares(pids: pids), descriptors: ends)
            for end in ends { close(end) }
            guard sent else { return false }
            if failure != 0 {
                printError("thermos-coordinator --fork-server: cannot fork a spare coordinator: \(describeErrno(failure))")
                return reply(.refused(errno: failure), descriptors: [])
            }
        }
        return true
    }

    /// In the forked child: the state a coordinator spawned for its run starts with — its own
    /// session and process group, its socket as fd 4 (the handshake) and nothing else above 2
    /// (not the server's socket, not another spare's), default SIGCHLD (it waits for its command)
    /// — then it waits for its run: the arguments with the locked stream, installed as fd 3, and
    /// the one-run path, whose handshake is the go-ahead on the same socket. A socket closed
    /// before a run came (the runner retired the spare, or died) ends it without a trace.
    private static func becomeSpare(socket spareSocket: Int32) -> Never {
        signal(SIGCHLD, SIG_DFL)
        relabel()
        guard setsid() > 0 else { fail("setsid") }
        let copy = fcntl(spareSocket, F_DUPFD_CLOEXEC, 10)
        guard copy >= 0, dup2(copy, 4) == 4, close(3) == 0, cthermos_close_from(5) == 0 else {
            fail("install the spare's socket and close the fork server's descriptors")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ForkServerProtocol.largestRequest, alignment: 16)
        var passed: [Int32] = [-1, -1]
        var count: Int32 = 0
        var truncated: Int32 = 0
        let received = cthermos_receive_with_fds(4, buffer.baseAddress, buffer.count, &passed, Int32(passed.count), &count, &truncated)
        if received == 0 || (received < 0 && errno == ECONNRESET) { exit(0) }
        guard received > 0 else { fail("read its run from the runner") }
        guard truncated == 0, count == Int32(ForkServerProtocol.passedDescriptors) else {
            printError("thermos-coordinator (spare): malformed run request (\(count) descriptors, truncated: \(truncated != 0))")
            exit(CoordinatorFailure.usage("").exitStatus)
        }
        let arguments: [String]
        do {
            arguments = try ForkServerProtocol.decodeRequest(UnsafeRawBufferPointer(rebasing: buffer[0..<received]))
        } catch {
            printError("thermos-coordinator (spare): \(error.message)")
            exit(CoordinatorFailure.usage("").exitStatus)
        }
        buffer.deallocate()
        // (fd 3 was closed above, so the stream may have arrived as fd 3 already.)
        if passed[0] != 3 {
            guard dup2(passed[0], 3) == 3, close(passed[0]) == 0 else { fail("install the coordinator stream") }
        }
        Coordinator.main(arguments: arguments)
    }

    /// Makes the child show as a forked coordinator, not as the server, in `ps` and
    /// /proc/PID/cmdline (which read the argv memory it shares with the server, copy-on-write):
    /// `--fork-server` is overwritten in place with `--forked` and NULs.
    private static func relabel() {
        guard CommandLine.argc > 1, let argument = CommandLine.unsafeArgv[1] else { return }
        let length = strlen(argument)
        let label = Array(ForkServerProtocol.forkedLabel.utf8)
        guard label.count <= length else { return }
        memset(argument, 0, length)
        for (index, byte) in label.enumerated() { argument[index] = CChar(bitPattern: byte) }
    }

    /// A forked child that cannot set itself up: exit 71 before touching the run. The runner
    /// sees a spare gone before its run (and picks another) or a coordinator exit before RUNNING
    /// (LOST) and launches the run again.
    private static func fail(_ step: String) -> Never {
        printError("thermos-coordinator (forked): cannot \(step): \(describeErrno(errno))")
        exit(CoordinatorFailure.system("").exitStatus)
    }

    /// Sends one reply with `descriptors` attached; false once the runner is gone.
    private static func reply(_ reply: ForkServerProtocol.Reply, descriptors: [Int32]) -> Bool {
        SocketMessage.send(ForkServerProtocol.encodeReply(reply), descriptors: descriptors, on: socket) == 0
    }

    /// Runs, once, the code every coordinator runs (argument parsing, record encoding and
    /// decoding, the clock, log files, the environment, a spawn), so the lazily built type metadata and caches already sit in pages
    /// the children share instead of being built again in each child's private pages.
    private static func warmUp() {
        var sample = CoordinatorInvocation(
            checkpoint: "/warm-up/coordinator.p", process: "p", seq: 1, forkTime: SystemWallClock().now(), cmdline: "true",
            sandbox: "/warm-up", logDirectory: "/warm-up/.logs/p/0")
        sample.user = "nobody"
        sample.runnerUser = "nobody"
        sample.runnerHome = "/"
        sample.destination = .both
        sample.mode = .rotate
        let arguments = sample.arguments
        _ = try? CoordinatorInvocation(arguments: arguments)
        let request = ForkServerProtocol.encodeRequest(arguments)
        _ = request.withUnsafeBytes { try? ForkServerProtocol.decodeRequest($0) }
        let records: [RunnerCkpt] = [
            .processStatus(ProcessStatus(seq: 1, process: "p", state: .forked, coordinatorPid: 1, forkTime: 1)),
            .processStatus(ProcessStatus(seq: 2, process: "p", state: .running, startTime: 1, pid: 1)),
            .processStatus(ProcessStatus(seq: 3, process: "p", state: .success, stopTime: 2, returnCode: 0)),
        ]
        var bytes: [UInt8] = []
        for record in records {
            if let framed = try? RecordFraming.frame(record.thriftPayload()) { bytes += framed }
        }
        _ = try? CheckpointReader.decode(bytes)
        // Writing a record goes through swift-system's generic writeAll, whose metadata is built
        // on first use: build it here, once, on a stream that goes nowhere.
        if let sink = try? CheckpointWriter(path: "/dev/null", policy: .none, repairTornTail: false) {
            try? sink.appendVisible(records[1])
            try? sink.close()
        }
        // What a coordinator does to start its command: its log directory and files, the
        // command's environment, a spawn (of `true`, waited for) and its exit status.
        let warming = Coordinator(options: sample, stream: CheckpointWriter(adopting: -1, path: sample.checkpoint, policy: .none))
        _ = warming.buildEnvironment(account: nil)
        try? Files.makeDirectories("/")
        if let null = try? LogSink.open("/dev/null", truncate: false, owner: nil) {
            var request = SpawnRequest(executable: "/bin/true", arguments: ["/bin/true"], environment: ["PATH=/usr/bin:/bin"])
            request.descriptors = [0: .inherit(null), 1: .inherit(null), 2: .inherit(null)]
            request.directory = "/"
            if let pid = try? request.spawn() {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                _ = cthermos_wait_return_code(status)
            }
            close(null)
        }
    }
}
