public import ThermosControl

// A platform without a control socket (the tests' fakes): nothing listens, nothing to answer.
extension RunnerPlatform {
    public func openControlSocket(path: String, allowedUIDs: Set<UInt32>, ownerUID: UInt32?) throws(RunnerError) {}
    public func reply(client: Int32, _ response: ControlResponse) {}
    public func closeControlSocket() {}
}
