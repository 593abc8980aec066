import CThermosSys

/// One message on an AF_UNIX SOCK_SEQPACKET socket with descriptors attached (SCM_RIGHTS): how
/// the runner, the fork server and its spares hand each other work.
public enum SocketMessage {
    /// Sends `payload` with `descriptors` (they stay the caller's to close) as one message.
    /// - Returns: 0, or the errno of the failed send.
    public static func send(_ payload: [UInt8], descriptors: [Int32] = [], on socket: Int32) -> Int32 {
        payload.withUnsafeBytes { bytes in
            descriptors.withUnsafeBufferPointer {
                cthermos_send_with_fds(socket, bytes.baseAddress, bytes.count, $0.baseAddress, Int32($0.count))
            }
        }
    }
}
