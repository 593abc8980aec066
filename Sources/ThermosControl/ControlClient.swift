import Glibc
public import ThermosCheckpoint

/// The client side of a runner's control socket, shared by the CLI (`thermos restart|stop|
/// start|kill`) and the observer's buttons. Blocking with a deadline: one connection, one
/// request line, one response line.
public enum ControlClient {
    /// The socket's file name, beside the runner checkpoint.
    public static let socketName = "control.sock"

    /// `<root>/checkpoints/<task_id>/control.sock`.
    public static func socketPath(root: String, taskID: String) -> String {
        TaskPath.checkpointDirectory(root: root, taskID: taskID) + "/" + socketName
    }

    /// Sends `request` to the runner listening on `socketPath` and returns its answer.
    /// - Throws: `.runnerNotRunning` (no socket, or nobody listening), `.permissionDenied`,
    ///   `.timeout` after `timeout` seconds, `.protocolError`, `.io`.
    public static func send(_ request: ControlRequest, socketPath: String, timeout: Double = 10) throws(ControlClientError) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure(.io, "cannot create a unix socket") }
        defer { close(fd) }
        let connected = UnixSocketAddress.with(socketPath) { connect(fd, $0, $1) }
        guard connected == 0 else {
            switch errno {
            case ENOENT, ECONNREFUSED, ENOTDIR:
                throw failure(.runnerNotRunning, "no runner listens on \(socketPath)")
            case EACCES, EPERM:
                throw failure(.permissionDenied, "permission denied connecting to \(socketPath)")
            default:
                throw failure(.io, "cannot connect to \(socketPath)")
            }
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.line.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { throw failure(.timeout, "the runner did not take the request within \(timeout) s") }
                // The runner may have refused us (peer check) and closed: read its answer below.
                if errno == EPIPE || errno == ECONNRESET { break }
                throw failure(.io, "cannot send to \(socketPath)")
            }
            written += count
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !answer.contains(UInt8(ascii: "\n")) && answer.count < 4096 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { throw failure(.timeout, "the runner did not answer within \(timeout) s") }
                throw failure(.io, "cannot read the runner's answer from \(socketPath)")
            }
            if count == 0 { break }
            answer += chunk[0..<count]
        }
        guard let newline = answer.firstIndex(of: UInt8(ascii: "\n")) else {
            throw ControlClientError(.protocolError, "the runner closed \(socketPath) without an answer")
        }
        return try ControlResponse(line: Substring(String(decoding: answer[..<newline], as: UTF8.self)))
    }

    private static func failure(_ code: ControlClientError.Code, _ message: String) -> ControlClientError {
        let number = errno
        return ControlClientError(code, "\(message): \(String(cString: strerror(number)))", errno: number)
    }
}
