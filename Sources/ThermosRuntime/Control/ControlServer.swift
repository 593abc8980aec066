import CThermosSys
import Glibc
import ThermosControl

/// The runner's end of the control socket: a non-blocking unix listener and its connections,
/// all in the runner's epoll set. Only the task's owner, the runner's user and root get past the
/// `SO_PEERCRED` check (the socket is also mode 0600, owned by the task's user). A client can
/// neither block nor grow the runner: reads are non-blocking and bounded by
/// `ControlRequest.maximumLineLength`, a connection is read until its first line only, at most
/// `maximumConnections` are open (the oldest is dropped for a new one), and one open longer than
/// `idleTimeout` is closed at the next wake-up. Single-threaded: owned by the runner's thread.
final class ControlServer {
    static let maximumConnections = 16
    static let idleTimeout = 5.0

    struct Connection {
        var buffer: [UInt8] = []
        var openedAt: Double
    }

    let path: String
    let listener: Int32
    let epoll: Int32
    let connectionBase: UInt64
    let allowedUIDs: Set<UInt32>
    private(set) var connections: [Int32: Connection] = [:]

    /// Binds `path` (replacing a stale socket a dead runner left) and listens.
    /// - Parameters:
    ///   - ownerUID: the task's user; the socket is handed to it when the runner is root.
    init(path: String, allowedUIDs: Set<UInt32>, ownerUID: UInt32?, epoll: Int32, listenerToken: UInt64, connectionBase: UInt64) throws(RunnerError) {
        self.path = path
        self.epoll = epoll
        self.connectionBase = connectionBase
        self.allowedUIDs = allowedUIDs
        var info = stat()
        if lstat(path, &info) == 0 {
            // We hold the task's lock: a socket here belongs to a runner that is gone.
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw RunnerError(.checkpoint, "\(path) exists and is not a socket; remove it to allow thermos restart/stop/start")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Self.failure("create the control socket", path) }
        // Owner-only from birth: no window in which another user could connect.
        let previousMask = umask(0o177)
        let bound = UnixSocketAddress.with(path) { bind(fd, $0, $1) }
        let bindErrno = errno
        umask(previousMask)
        guard bound == 0 else {
            close(fd)
            errno = bindErrno
            throw Self.failure("bind the control socket", path)
        }
        if getuid() == 0, let ownerUID, ownerUID != 0 {
            _ = chown(path, ownerUID, gid_t(bitPattern: -1))
        }
        guard listen(fd, Int32(Self.maximumConnections)) == 0, cthermos_epoll_add(epoll, fd, listenerToken) == 0 else {
            let error = Self.failure("listen on the control socket", path)
            close(fd)
            unlink(path)
            throw error
        }
        listener = fd
    }

    deinit {
        for fd in connections.keys { close(fd) }
        close(listener)
        unlink(path)
    }

    /// Accepts every pending connection; refuses (answers and closes) users who may not control.
    func acceptAll(now: Double) {
        while true {
            let fd = cthermos_accept_nonblocking(listener)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var uid: UInt32 = 0
            guard cthermos_peer_uid(fd, &uid) == 0, allowedUIDs.contains(uid) else {
                Self.send(ControlResponse.error(.permissionDenied, "uid \(uid) may not control this task (only its owner and root)"), to: fd)
                close(fd)
                continue
            }
            if connections.count >= Self.maximumConnections, let oldest = connections.min(by: { $0.value.openedAt < $1.value.openedAt })?.key {
                drop(oldest)
            }
            guard cthermos_epoll_add(epoll, fd, connectionBase + UInt64(fd)) == 0 else {
                close(fd)
                continue
            }
            connections[fd] = Connection(openedAt: now)
        }
    }

    /// Reads what `fd` sent: its request once a whole line is in (the connection then awaits
    /// `reply`), nil while incomplete. Malformed or oversized requests are answered here.
    func read(_ fd: Int32) -> ControlRequest? {
        guard var connection = connections[fd] else { return nil }
        var chunk = [UInt8](repeating: 0, count: ControlRequest.maximumLineLength)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { drop(fd) } else { connections[fd] = connection }
                return nil
            }
            connection.buffer += chunk[0..<count]
            if let newline = connection.buffer.firstIndex(of: UInt8(ascii: "\n")), newline < ControlRequest.maximumLineLength {
                // One request per connection: stop reading it (a flood behind the line is never read).
                _ = cthermos_epoll_remove(epoll, fd)
                connection.buffer = Array(connection.buffer[..<newline])
                connections[fd] = connection
                do {
                    return try ControlRequest(line: Substring(String(decoding: connection.buffer, as: UTF8.self)))
                } catch {
                    reply(fd, error)
                    return nil
                }
            }
            if connection.buffer.count >= ControlRequest.maximumLineLength {
                reply(fd, .error(.tooLong, "request longer than \(ControlRequest.maximumLineLength) bytes"))
                return nil
            }
        }
    }

    /// Answers `fd` (best effort, never blocking) and closes it.
    func reply(_ fd: Int32, _ response: ControlResponse) {
        guard connections[fd] != nil else { return }
        Self.send(response, to: fd)
        drop(fd)
    }

    /// Closes connections open for longer than `idleTimeout` (a client that stalls).
    func expire(now: Double) {
        for (fd, connection) in connections where now - connection.openedAt > Self.idleTimeout {
            drop(fd)
        }
    }

    private func drop(_ fd: Int32) {
        guard connections.removeValue(forKey: fd) != nil else { return }
        _ = cthermos_epoll_remove(epoll, fd)
        close(fd)
    }

    private static func send(_ response: ControlResponse, to fd: Int32) {
        let bytes = Array(response.line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
    }

    private static func failure(_ what: String, _ path: String) -> RunnerError {
        let number = errno
        return RunnerError(.internalError, "cannot \(what) \(path): \(String(cString: strerror(number)))", errno: number)
    }
}
