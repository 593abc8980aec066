import Glibc
public import ThermosControl

// The control socket in the runner's epoll set (`ControlServer`).
extension LinuxRunnerPlatform {
    static let controlListenerToken: UInt64 = 4
    static let controlConnectionBase: UInt64 = 1 << 33

    public func openControlSocket(path: String, allowedUIDs: Set<UInt32>, ownerUID: UInt32?) throws(RunnerError) {
        controlServer = nil
        controlServer = try ControlServer(
            path: path, allowedUIDs: allowedUIDs, ownerUID: ownerUID, epoll: epoll,
            listenerToken: Self.controlListenerToken, connectionBase: Self.controlConnectionBase)
    }

    public func reply(client: Int32, _ response: ControlResponse) {
        controlServer?.reply(client, response)
    }

    public func closeControlSocket() {
        controlServer = nil
    }

    /// The events of an epoll token of the control socket; nil for any other token.
    func controlEvents(for token: UInt64) -> [RunnerEvent]? {
        // Connection tokens are `1 << 33 + fd` (fd < 2^31): below the probes' `1 << 40` range.
        guard token == Self.controlListenerToken || (Self.controlConnectionBase..<Self.controlConnectionBase + (1 << 32)).contains(token)
        else { return nil }
        guard let server = controlServer else { return [] }
        if token == Self.controlListenerToken {
            server.acceptAll(now: now())
            return []
        }
        let fd = Int32(truncatingIfNeeded: token - Self.controlConnectionBase)
        guard let request = server.read(fd) else { return [] }
        return [.controlRequest(request, client: fd)]
    }

    /// Closes control connections that stalled.
    func expireControlConnections() {
        controlServer?.expire(now: now())
    }
}
