/// Why a control request did not reach a runner or got no answer.
public struct ControlClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No runner listens on the socket (none, or a stale socket of a dead runner).
        case runnerNotRunning
        /// The socket (or its directory) is not ours to use.
        case permissionDenied
        /// The runner did not answer within the timeout.
        case timeout
        /// The answer was not a response line.
        case protocolError
        /// Any other socket failure.
        case io
    }

    public var code: Code
    public var message: String
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
}
