import CThermosSys
import Glibc

/// A coordinator started before it is needed: it waits on fd 4 (an AF_UNIX SOCK_SEQPACKET
/// socket) for one message holding its arguments (NUL-separated) and its locked coordinator
/// stream (SCM_RIGHTS). The go-ahead then comes on the same socket, exactly as the handshake of a
/// coordinator started for the run.
enum Standby {
    static let largestAssignment = 1 << 20

    /// The assigned arguments, with the stream installed as fd 3; nil when the runner went away
    /// (EOF) or sent something unusable.
    static func awaitAssignment() -> [String]? {
        var buffer = [UInt8](repeating: 0, count: largestAssignment)
        var stream: Int32 = -1
        let count = buffer.withUnsafeMutableBytes { cthermos_receive_with_fd(4, $0.baseAddress, $0.count, &stream) }
        guard count > 0, stream >= 0 else { return nil }
        if stream != 3 {
            guard dup2(stream, 3) == 3 else { return nil }
            close(stream)
        } else {
            // Received as fd 3 already (close-on-exec must go: the stream is ours to keep).
            _ = fcntl(3, F_SETFD, 0)
        }
        return buffer[0..<count].split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }
}
