/// The runner↔fork-server protocol (`thermos-coordinator --fork-server`), shared by both sides.
///
/// The fork server forks *spare* coordinators ahead of need, so that starting a run costs the
/// runner one message to a process that already exists instead of a fork round trip:
/// - server → runner, once: `ready` with the server's pid, after its start-up;
/// - runner → server: a spare request (`encodeSpareRequest`) for N spares;
/// - server → runner, per request, in order: `spares` replies of at most `sparesPerReply` pids,
///   each with the runner's ends of those spares' sockets attached (SCM_RIGHTS, one per pid, same
///   order), until N were sent — or fewer followed by `refused` (the errno of the failed fork);
/// - runner → spare, once: a run request — the run's `CoordinatorInvocation.arguments` (length
///   prefixed, so any byte survives) with the locked coordinator stream attached (the spare's fd
///   3) — then, on the same socket (the spare's fd 4, its handshake), the go-ahead byte once the
///   FORKED record is written. A spare whose socket closes first exits without running anything.
///
/// Each socket is an AF_UNIX SOCK_SEQPACKET pair: one message per step. The arguments travel as
/// an opaque list: neither the server nor the spare interprets them before the coordinator parses
/// them exactly as a coordinator started with them on its command line, so a field added to
/// `CoordinatorInvocation` needs no change here.
public enum ForkServerProtocol {
    /// The server's control socket: fd 3 of `thermos-coordinator --fork-server`.
    public static let serverSocketFD: Int32 = 3
    /// The argument that starts the fork server.
    public static let serverFlag = "--fork-server"

    /// The fork server's command line: `<binary> --fork-server --sandbox <sandbox>`. The sandbox
    /// is a label only (the forked coordinators share this command line, so a task's processes
    /// can be told by it, as a coordinator spawned for its run is told by its own arguments).
    public static func serverArguments(binary: String, sandbox: String) -> [String] {
        [binary, serverFlag, "--sandbox", sandbox]
    }

    /// What a forked coordinator shows instead of `serverFlag` in its command line (it shares
    /// the server's, rewritten in place: no longer than `serverFlag`).
    public static let forkedLabel = "--forked"

    /// True for the arguments (after the binary) of `serverArguments`.
    public static func isServerInvocation(_ arguments: [String]) -> Bool {
        arguments.first == serverFlag && (arguments.count == 1 || (arguments.count == 3 && arguments[1] == "--sandbox"))
    }
    /// Descriptors attached to a run request: the coordinator stream.
    public static let passedDescriptors = 1
    /// The largest run request a spare accepts.
    public static let largestRequest = 1 << 20
    /// The most spares one `spares` reply carries (a small first batch lets the runner start
    /// launching while the server forks the rest).
    public static let sparesPerReply = 16
    /// The most spares one request may ask for.
    public static let largestSpareRequest = 4096
    /// First bytes of every message (a version mark: a runner and a server of different builds
    /// must not half-agree).
    static let requestMagic: [UInt8] = Array("TFS2".utf8)
    /// First bytes of a spare request.
    static let spareMagic: [UInt8] = Array("TFSS".utf8)

    /// Why a message is not a valid request or reply.
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// A request's payload: the magic, the argument count, then each argument as a 4-byte length
    /// and its UTF-8 bytes (little endian).
    public static func encodeRequest(_ arguments: [String]) -> [UInt8] {
        var bytes = requestMagic
        appendUInt32(UInt32(arguments.count), to: &bytes)
        for argument in arguments {
            let utf8 = Array(argument.utf8)
            appendUInt32(UInt32(utf8.count), to: &bytes)
            bytes += utf8
        }
        return bytes
    }

    /// Parses a request's payload back into the arguments.
    /// - Throws: `ForkServerProtocol.Error` for a payload that is not exactly one request.
    public static func decodeRequest(_ bytes: UnsafeRawBufferPointer) throws(ForkServerProtocol.Error) -> [String] {
        guard bytes.count >= requestMagic.count + 4, bytes.prefix(requestMagic.count).elementsEqual(requestMagic) else {
            throw Error("not a run request (bad magic or too short: \(bytes.count) bytes)")
        }
        var offset = requestMagic.count
        func uint32() throws(ForkServerProtocol.Error) -> Int {
            guard offset + 4 <= bytes.count else { throw Error("run request truncated at byte \(offset)") }
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
            offset += 4
            return Int(value)
        }
        let count = try uint32()
        guard count <= bytes.count else { throw Error("run request claims \(count) arguments in \(bytes.count) bytes") }
        var arguments: [String] = []
        arguments.reserveCapacity(count)
        for _ in 0..<count {
            let length = try uint32()
            guard length <= bytes.count - offset else { throw Error("run request argument overruns the message at byte \(offset)") }
            arguments.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self))
            offset += length
        }
        guard offset == bytes.count else { throw Error("run request has \(bytes.count - offset) stray bytes at its end") }
        return arguments
    }

    /// A spare request's payload: the magic and the count (little endian).
    public static func encodeSpareRequest(count: Int) -> [UInt8] {
        var bytes = spareMagic
        appendUInt32(UInt32(clamping: count), to: &bytes)
        return bytes
    }

    /// The number of spares a spare request asks for.
    /// - Throws: `ForkServerProtocol.Error` for anything but one request of 1…`largestSpareRequest`.
    public static func decodeSpareRequest(_ bytes: UnsafeRawBufferPointer) throws(ForkServerProtocol.Error) -> Int {
        guard bytes.count == spareMagic.count + 4, bytes.prefix(spareMagic.count).elementsEqual(spareMagic) else {
            throw Error("not a spare request (bad magic or length: \(bytes.count) bytes)")
        }
        let count = Int(readUInt32(bytes, at: spareMagic.count))
        guard (1...largestSpareRequest).contains(count) else {
            throw Error("spare request for \(count) spares (1…\(largestSpareRequest) allowed)")
        }
        return count
    }

    /// What the server says.
    public enum Reply: Sendable, Hashable {
        /// Started and ready for requests (sent once, first).
        case ready(pid: Int32)
        /// Spares forked for the current request, with the runner's ends of their sockets
        /// attached in the same order.
        case spares(pids: [Int32])
        /// The rest of the current request was not carried out (`fork` failed, or a malformed
        /// request): an errno.
        case refused(errno: Int32)
    }

    /// The largest reply in bytes.
    public static let largestReply = 5 + 4 * sparesPerReply

    /// A reply: a kind byte and an Int32 (`ready`, `refused`), or `S`, the count and each pid.
    public static func encodeReply(_ reply: Reply) -> [UInt8] {
        switch reply {
        case .ready(let pid):
            return [UInt8(ascii: "R")] + uint32Bytes(UInt32(bitPattern: pid))
        case .refused(let errno):
            return [UInt8(ascii: "E")] + uint32Bytes(UInt32(bitPattern: errno))
        case .spares(let pids):
            var bytes = [UInt8(ascii: "S")] + uint32Bytes(UInt32(pids.count))
            for pid in pids { appendUInt32(UInt32(bitPattern: pid), to: &bytes) }
            return bytes
        }
    }

    /// - Throws: `ForkServerProtocol.Error` for anything but one well-formed reply.
    public static func decodeReply(_ bytes: [UInt8]) throws(ForkServerProtocol.Error) -> Reply {
        guard bytes.count >= 5 else { throw Error("fork server reply of \(bytes.count) bytes (at least 5 expected)") }
        let word = { (offset: Int) -> Int32 in
            bytes.withUnsafeBytes { Int32(bitPattern: readUInt32($0, at: offset)) }
        }
        let value = word(1)
        switch bytes[0] {
        case UInt8(ascii: "R") where value > 0 && bytes.count == 5: return .ready(pid: value)
        case UInt8(ascii: "E") where value > 0 && bytes.count == 5: return .refused(errno: value)
        case UInt8(ascii: "S") where value > 0 && Int(value) <= sparesPerReply && bytes.count == 5 + 4 * Int(value):
            let pids = (0..<Int(value)).map { word(5 + 4 * $0) }
            guard pids.allSatisfy({ $0 > 0 }) else { throw Error("fork server reply with a pid of 0 or less: \(pids)") }
            return .spares(pids: pids)
        default: throw Error("malformed fork server reply \(bytes)")
        }
    }

    private static func uint32Bytes(_ value: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        appendUInt32(value, to: &bytes)
        return bytes
    }

    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
        return value
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for index in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))) }
    }
}
