import CThermosSys
import Glibc
import ThermosCoordination
import ThermosPlatform

/// The runner's end of its fork server (`thermos-coordinator --fork-server`, see
/// `ForkServerProtocol`): a pre-started single-threaded coordinator that forks the coordinator of
/// each run, so a launch costs one `fork` of a small static process instead of a `posix_spawn`,
/// an `exec` and a Swift runtime start-up, and the coordinators share the server's pages.
///
/// The server is the runner's child; its children (the coordinators) are not. Their exits still
/// reach the runner at once through pidfds, which work for any process; the server reaps them. A
/// server that dies is noticed at the next launch (its pidfd, a failed send, an EOF or a timeout)
/// and replaced; runs it forked before live on, re-parented to the runner (a child subreaper).
final class ForkServerConnection {
    /// How a fork request ended.
    enum ForkResult {
        /// The coordinator was forked with this pid.
        case forked(Int32)
        /// The server answered but did not fork (an errno): the server itself is fine.
        case refused(Int32)
        /// The server is gone or unresponsive: retire it.
        case serverFailed(String)
    }

    let pid: Int32
    private let socket: Int32
    private let pidfd: Int32
    private var ready = false
    /// How long a reply may take before the server counts as hung (a fork of this small process
    /// takes well under a millisecond; only a stopped or wedged server comes near this).
    static let replyTimeout: Int32 = 5000

    private init(pid: Int32, socket: Int32, pidfd: Int32) {
        self.pid = pid
        self.socket = socket
        self.pidfd = pidfd
    }

    /// Spawns `<coordinatorPath> --fork-server --sandbox <sandbox>` in a session of its own with
    /// fd 3 = its end of the control socket, 0 = /dev/null and 1–2 = ours (where coordinators
    /// write their own errors). TERM/INT/HUP start blocked until it has set them to be ignored, as
    /// for a coordinator. The sandbox only labels the server and its children (they share its
    /// command line) as the task's, as a coordinator spawned for its run is labelled by its own.
    static func start(coordinatorPath: String, sandbox: String) throws(RunnerError) -> ForkServerConnection {
        var pair: [Int32] = [-1, -1]
        guard cthermos_seqpacket_pair(&pair) == 0 else {
            throw RunnerError(.launch, "cannot create the fork server socket: \(String(cString: strerror(errno)))", errno: errno)
        }
        defer { close(pair[1]) }
        var request = SpawnRequest(executable: coordinatorPath, arguments: ForkServerProtocol.serverArguments(binary: coordinatorPath, sandbox: sandbox))
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), ForkServerProtocol.serverSocketFD: .inherit(pair[1])]
        request.newSession = true
        request.blockedSignals = [SIGTERM, SIGINT, SIGHUP]
        let pid: Int32
        do {
            pid = try request.spawn()
        } catch {
            close(pair[0])
            throw RunnerError(.launch, "cannot start the fork server \(coordinatorPath): \(error)", cause: error)
        }
        let pidfd = cthermos_pidfd_open(pid)
        guard pidfd >= 0 else {
            let code = errno
            close(pair[0])
            Glibc.kill(pid, SIGKILL)
            throw RunnerError(.launch, "cannot watch the fork server (pidfd_open): \(String(cString: strerror(code)))", errno: code)
        }
        return ForkServerConnection(pid: pid, socket: pair[0], pidfd: pidfd)
    }

    /// True until the server process exits.
    var isAlive: Bool { cthermos_wait_readable(pidfd, 0) == 0 }

    /// Waits for the server's `ready` (once); false if it died or stayed silent.
    func awaitReady() -> Bool {
        if ready { return true }
        guard case .ready(let announced)? = try? receiveReply(), announced == pid else { return false }
        ready = true
        return true
    }

    /// Asks the server to fork the coordinator of `arguments` with `stream` as its fd 3 and
    /// `handshake` as its fd 4 (both stay ours to close).
    func fork(arguments: [String], stream: Int32, handshake: Int32) -> ForkResult {
        guard awaitReady() else { return .serverFailed("the fork server (pid \(pid)) did not start") }
        let payload = ForkServerProtocol.encodeRequest(arguments)
        guard payload.count <= ForkServerProtocol.largestRequest else {
            return .refused(E2BIG)
        }
        let descriptors = [stream, handshake]
        let sent = payload.withUnsafeBytes { bytes in
            descriptors.withUnsafeBufferPointer {
                cthermos_send_with_fds(socket, bytes.baseAddress, bytes.count, $0.baseAddress, Int32($0.count))
            }
        }
        guard sent == 0 else { return .serverFailed("cannot send to the fork server: \(String(cString: strerror(sent)))") }
        do {
            switch try receiveReply() {
            case .forked(let child): return .forked(child)
            case .refused(let code): return .refused(code)
            case .ready: return .serverFailed("the fork server announced itself twice")
            }
        } catch {
            return .serverFailed(error.description)
        }
    }

    private func receiveReply() throws(ForkServerProtocol.Error) -> ForkServerProtocol.Reply {
        switch cthermos_wait_readable(socket, Self.replyTimeout) {
        case 1: break
        case 0: throw ForkServerProtocol.Error("the fork server (pid \(pid)) did not answer within \(Self.replyTimeout) ms")
        default: throw ForkServerProtocol.Error("cannot wait for the fork server: \(String(cString: strerror(errno)))")
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        var received = 0
        repeat {
            received = bytes.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        } while received < 0 && errno == EINTR
        guard received > 0 else {
            throw ForkServerProtocol.Error(received == 0 ? "the fork server (pid \(pid)) exited" : "cannot read from the fork server: \(String(cString: strerror(errno)))")
        }
        return try ForkServerProtocol.decodeReply(Array(bytes.prefix(received)))
    }

    /// Ends the server: closing the socket makes it exit at its next read; SIGKILL (through the
    /// pidfd, so never another process) ends one that is stuck. Its coordinators live on.
    func stop() {
        close(socket)
        _ = cthermos_pidfd_send_signal(pidfd, SIGKILL)
        close(pidfd)
    }
}
