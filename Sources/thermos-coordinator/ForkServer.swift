import CThermosSys
import Glibc
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform

/// `thermos-coordinator --fork-server`: started once by the runner, it forks the coordinator of
/// each run (no exec, no Swift start-up: the child is this process, its runtime and pages shared
/// copy-on-write) and hands it the run's arguments and locked stream (`ForkServerProtocol`).
///
/// Forking is safe because this process is single-threaded for its whole life: a synchronous
/// main, no Foundation, no Dispatch, no concurrency. It holds nothing of the runner's: it is
/// spawned with fds 0–2 and its control socket only, and closes each run's descriptors as soon as
/// the child has them, so no runner lock or checkpoint fd ever lives here.
///
/// Children are reaped by the kernel the moment they exit (SIGCHLD is ignored here, which makes
/// exited children disappear instead of staying zombies): the runner learns of a coordinator's
/// exit from its pidfd, and the exit code comes from the coordinator's stream. If the server dies,
/// its children (own sessions, already running) are re-parented to the runner, a child subreaper,
/// which reaps them; the runner starts a new server for the next launch.
enum ForkServer {
    static let socket = ForkServerProtocol.serverSocketFD

    static func serve() -> Never {
        signal(SIGCHLD, SIG_IGN)
        warmUp()
        guard reply(.ready(pid: getpid())) else { exit(0) }
        // Allocated once, never zeroed: only the bytes a request fills are ever touched.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ForkServerProtocol.largestRequest, alignment: 16)
        var passed = [Int32](repeating: -1, count: ForkServerProtocol.passedDescriptors + 1)
        while true {
            var count: Int32 = 0
            var truncated: Int32 = 0
            let received = cthermos_receive_with_fds(
                socket, buffer.baseAddress, buffer.count, &passed, Int32(passed.count), &count, &truncated)
            // EOF: the runner is gone (or retired us). Running coordinators carry on without us.
            if received == 0 { exit(0) }
            if received < 0 {
                printError("thermos-coordinator --fork-server: cannot read from the runner: \(describeErrno(errno))")
                exit(71)
            }
            let descriptors = Array(passed.prefix(Int(count)))
            let answer = handle(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(received)]), descriptors, truncated: truncated != 0)
            for fd in descriptors { close(fd) }
            guard reply(answer) else { exit(0) }
        }
    }

    /// Forks the coordinator of one request; the parent's answer.
    private static func handle(_ message: UnsafeRawBufferPointer, _ descriptors: [Int32], truncated: Bool) -> ForkServerProtocol.Reply {
        guard !truncated, descriptors.count == ForkServerProtocol.passedDescriptors else {
            printError("thermos-coordinator --fork-server: malformed request (\(descriptors.count) descriptors, truncated: \(truncated))")
            return .refused(errno: EINVAL)
        }
        let arguments: [String]
        do {
            arguments = try ForkServerProtocol.decodeRequest(message)
        } catch {
            printError("thermos-coordinator --fork-server: \(error.message)")
            return .refused(errno: EINVAL)
        }
        let pid = fork()
        if pid == 0 { becomeCoordinator(arguments: arguments, stream: descriptors[0], handshake: descriptors[1]) }
        return pid > 0 ? .forked(pid: pid) : .refused(errno: errno)
    }

    /// In the forked child: the state a coordinator spawned for its run starts with — its own
    /// session and process group, the stream as fd 3, the handshake socket as fd 4 and nothing
    /// else above 2 (not the control socket, not another run's fds), default SIGCHLD (it waits for
    /// its command) — then the one-run path.
    private static func becomeCoordinator(arguments: [String], stream: Int32, handshake: Int32) -> Never {
        signal(SIGCHLD, SIG_DFL)
        relabel()
        guard setsid() > 0 else { fail("setsid") }
        // Copies above every target first, so installing one cannot clobber the other.
        let streamCopy = fcntl(stream, F_DUPFD_CLOEXEC, 10)
        let handshakeCopy = fcntl(handshake, F_DUPFD_CLOEXEC, 10)
        guard streamCopy >= 0, handshakeCopy >= 0, dup2(streamCopy, 3) == 3, dup2(handshakeCopy, 4) == 4 else {
            fail("install the stream and handshake descriptors")
        }
        guard cthermos_close_from(5) == 0 else { fail("close the fork server's descriptors (close_range)") }
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
    /// sees its coordinator exit before RUNNING (LOST) and launches the run again.
    private static func fail(_ step: String) -> Never {
        printError("thermos-coordinator (forked): cannot \(step): \(describeErrno(errno))")
        exit(CoordinatorFailure.system("").exitStatus)
    }

    /// Sends one reply; false once the runner is gone.
    private static func reply(_ reply: ForkServerProtocol.Reply) -> Bool {
        let bytes = ForkServerProtocol.encodeReply(reply)
        while true {
            let sent = bytes.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == bytes.count { return true }
            if sent < 0 && errno == EINTR { continue }
            return false
        }
    }

    /// Runs, once, the code every coordinator runs (argument parsing, record encoding and
    /// decoding, the clock), so the lazily built type metadata and caches already sit in pages
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
    }
}
