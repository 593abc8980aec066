import CThermosSys
import Glibc
import ThermosCoordination
import ThermosPlatform

/// The runner's end of its fork server (`thermos-coordinator --fork-server`, see
/// `ForkServerProtocol`): a pre-started single-threaded coordinator that forks *spare*
/// coordinators ahead of need, so a launch costs one message to a process that already exists
/// instead of a `posix_spawn`, an `exec` and a Swift runtime start-up (or a fork round trip), and
/// the coordinators share the server's pages.
///
/// Spares are asked for without waiting (`reserve`, and one ahead after launches,
/// `keepOneAhead`) and collected when a launch needs one, so the server forks while the runner and the previous run
/// work. The FORKED record of a run carries its launch time as fork time, as for a spawned
/// coordinator; pid validation compares it with the spare's start time within
/// `ProcessValidation`'s 10 s drift, so spares older than `maximumSpareAge` are retired unused.
///
/// The server is the runner's child; its children (spares and coordinators) are not. Their exits
/// still reach the runner at once through pidfds, which work for any process; the server reaps
/// them. A server that dies is noticed at the next launch (its pidfd, a failed send, an EOF or a
/// timeout) and replaced; runs it forked live on, re-parented to the runner (a child subreaper).
final class ForkServerConnection {
    /// A forked coordinator waiting for its run.
    struct Spare {
        let pid: Int32
        /// The runner's end of the spare's socket: the run request, then the go-ahead.
        let socket: Int32
        /// Watches the spare (and then the coordinator it becomes).
        let pidfd: Int32
        /// When it was asked for (just before the server forked it).
        let forkedAt: Double

        /// Ends a spare that will not be used: closing its socket makes it exit; SIGKILL (through
        /// the pidfd, so never another process) ends one that is stuck.
        func discard() {
            close(socket)
            _ = cthermos_pidfd_send_signal(pidfd, SIGKILL)
            close(pidfd)
        }

        var isAlive: Bool { cthermos_wait_readable(pidfd, 0) == 0 }
    }

    /// What `takeSpare` found.
    enum SpareResult {
        case spare(Spare)
        /// The server answered but could not fork (an errno): the server itself is fine.
        case refused(Int32)
        /// The server is gone or unresponsive: retire it.
        case serverFailed(String)
    }

    let pid: Int32
    private let socket: Int32
    private let pidfd: Int32
    /// The server's `ready` came (it is the first reply, read with the first spares).
    private var ready = false
    /// Spares received and not yet used, oldest first.
    private var spares: [Spare] = []
    /// Spare requests not fully answered, oldest first: how many spares are still to come and
    /// when each was asked for.
    private var pending: [(remaining: Int, requestedAt: Double)] = []
    /// A spare was taken since the last `keepOneAhead`.
    private var wantsOneAhead = false
    /// How long a reply may take before the server counts as hung (a fork of this small process
    /// takes well under a millisecond; only a stopped or wedged server comes near this).
    static let replyTimeout: Int32 = 5000
    /// Spares older than this are retired unused (well inside `ProcessValidation`'s 10 s drift
    /// between a coordinator's start time and its recorded fork time).
    static let maximumSpareAge = 5.0

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

    /// Spares received or asked for and not yet used.
    var available: Int { spares.count + pending.reduce(0) { $0 + $1.remaining } }

    /// Asks for enough spares that `count` launches find one (without waiting for them).
    /// - Returns: false if the server cannot be asked (it is gone).
    @discardableResult
    func reserve(_ count: Int, now: Double) -> Bool {
        let missing = min(count - available, ForkServerProtocol.largestSpareRequest)
        guard missing > 0 else { return true }
        // Sent without waiting for `ready`: a server still starting reads it right after.
        guard SocketMessage.send(ForkServerProtocol.encodeSpareRequest(count: missing), on: socket) == 0 else { return false }
        pending.append((missing, now))
        return true
    }

    /// A live spare younger than `maximumSpareAge`, waiting for one to arrive if none has.
    func takeSpare(now: Double) -> SpareResult {
        do {
            try receiveReplies(blocking: false)
            while true {
                while let spare = spares.first, !spare.isAlive || now - spare.forkedAt > Self.maximumSpareAge {
                    spares.removeFirst().discard()
                }
                if !spares.isEmpty { break }
                if pending.isEmpty {
                    guard reserve(1, now: now) else { return .serverFailed("cannot ask the fork server (pid \(pid)) for a spare") }
                }
                if let refusal = try receiveReplies(blocking: true) { return .refused(refusal) }
            }
        } catch {
            return .serverFailed(error.description)
        }
        let spare = spares.removeFirst()
        wantsOneAhead = true
        return .spare(spare)
    }

    /// After launches, asks for one spare ahead if none is left or on its way, so the next
    /// launch finds one waiting. Called when the runner is about to block: the server, woken
    /// now, forks on a CPU the runner leaves idle instead of preempting a launch in progress.
    func keepOneAhead(now: Double) {
        guard wantsOneAhead else { return }
        wantsOneAhead = false
        if available == 0 { reserve(1, now: now) }
    }

    /// Takes in the replies that arrived (with `blocking`, waits for at least one).
    /// - Returns: the errno of a `refused` reply among them.
    @discardableResult
    private func receiveReplies(blocking: Bool) throws(ForkServerProtocol.Error) -> Int32? {
        var refusal: Int32?
        var wait = blocking ? Self.replyTimeout : 0
        while !pending.isEmpty {
            switch cthermos_wait_readable(socket, wait) {
            case 1: break
            case 0:
                if wait == 0 { return refusal }
                throw ForkServerProtocol.Error("the fork server (pid \(pid)) did not answer within \(Self.replyTimeout) ms")
            default: throw ForkServerProtocol.Error("cannot wait for the fork server: \(String(cString: strerror(errno)))")
            }
            wait = 0
            let (reply, descriptors) = try receiveReply()
            switch reply {
            case .spares(let pids):
                guard ready, pids.count == descriptors.count, pids.count <= pending[0].remaining else {
                    for fd in descriptors { close(fd) }
                    throw ForkServerProtocol.Error("the fork server sent \(pids.count) spares with \(descriptors.count) sockets\(ready ? "" : " before it was ready")")
                }
                for (pid, end) in zip(pids, descriptors) {
                    let watch = cthermos_pidfd_open(pid)
                    guard watch >= 0 else {
                        // Gone already (killed before we could watch it): drop it.
                        close(end)
                        continue
                    }
                    spares.append(Spare(pid: pid, socket: end, pidfd: watch, forkedAt: pending[0].requestedAt))
                }
                pending[0].remaining -= pids.count
                if pending[0].remaining == 0 { pending.removeFirst() }
            case .refused(let code):
                for fd in descriptors { close(fd) }
                pending.removeFirst()
                refusal = code
            case .ready(let announced):
                for fd in descriptors { close(fd) }
                guard !ready, announced == pid else {
                    throw ForkServerProtocol.Error("the fork server (pid \(pid)) announced itself again, as \(announced)")
                }
                ready = true
            }
        }
        return refusal
    }

    /// Reads one reply that is known to be waiting, with the descriptors attached to it.
    private func receiveReply() throws(ForkServerProtocol.Error) -> (ForkServerProtocol.Reply, [Int32]) {
        var bytes = [UInt8](repeating: 0, count: ForkServerProtocol.largestReply + 1)
        var descriptors = [Int32](repeating: -1, count: ForkServerProtocol.sparesPerReply)
        var count: Int32 = 0
        var truncated: Int32 = 0
        let received = bytes.withUnsafeMutableBytes {
            cthermos_receive_with_fds(socket, $0.baseAddress, $0.count, &descriptors, Int32(descriptors.count), &count, &truncated)
        }
        let passed = Array(descriptors.prefix(Int(count)))
        guard received > 0, truncated == 0 else {
            for fd in passed { close(fd) }
            if received == 0 { throw ForkServerProtocol.Error("the fork server (pid \(pid)) exited") }
            if received < 0 { throw ForkServerProtocol.Error("cannot read from the fork server: \(String(cString: strerror(errno)))") }
            throw ForkServerProtocol.Error("the fork server sent a truncated reply")
        }
        do {
            return (try ForkServerProtocol.decodeReply(Array(bytes.prefix(received))), passed)
        } catch {
            for fd in passed { close(fd) }
            throw error
        }
    }

    /// Ends the server and its unused spares: closing a socket makes its process exit at its next
    /// read; SIGKILL (through the pidfd, so never another process) ends one that is stuck. Its
    /// coordinators live on.
    func stop() {
        for spare in spares { spare.discard() }
        spares = []
        pending = []
        close(socket)
        _ = cthermos_pidfd_send_signal(pidfd, SIGKILL)
        close(pidfd)
    }
}
