/// The runner↔fork-server protocol (`thermos-coordinator --fork-server`), shared by both sides.
///
/// The runner and its fork server talk over one AF_UNIX SOCK_SEQPACKET socket (the server's fd
/// `serverSocketFD`), one message per step:
/// - server → runner, once: `ready` with the server's pid, after its start-up;
/// - runner → server, per run: a request — the run's `CoordinatorInvocation.arguments` (length
///   prefixed, so any byte survives) with two descriptors attached (SCM_RIGHTS): the locked
///   coordinator stream (the child's fd 3) and the child's end of the run's handshake socket (fd 4);
/// - server → runner, per request, in order: the forked coordinator's pid, or a failure (errno).
///
/// The arguments travel as an opaque list: the server never interprets them (the forked child
/// parses them exactly as a coordinator started with them on its command line), so a field added
/// to `CoordinatorInvocation` needs no change here.
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
    /// Descriptors attached to a request, in this order.
    public static let passedDescriptors = 2
    /// The largest request the server accepts.
    public static let largestRequest = 1 << 20
    /// First bytes of every message (a version mark: a runner and a server of different builds
    /// must not half-agree).
    static let requestMagic: [UInt8] = Array("TFS1".utf8)

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
            throw Error("not a fork request (bad magic or too short: \(bytes.count) bytes)")
        }
        var offset = requestMagic.count
        func uint32() throws(ForkServerProtocol.Error) -> Int {
            guard offset + 4 <= bytes.count else { throw Error("fork request truncated at byte \(offset)") }
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
            offset += 4
            return Int(value)
        }
        let count = try uint32()
        guard count <= bytes.count else { throw Error("fork request claims \(count) arguments in \(bytes.count) bytes") }
        var arguments: [String] = []
        arguments.reserveCapacity(count)
        for _ in 0..<count {
            let length = try uint32()
            guard length <= bytes.count - offset else { throw Error("fork request argument overruns the message at byte \(offset)") }
            arguments.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self))
            offset += length
        }
        guard offset == bytes.count else { throw Error("fork request has \(bytes.count - offset) stray bytes at its end") }
        return arguments
    }

    /// What the server says.
    public enum Reply: Sendable, Hashable {
        /// Started and ready for requests (sent once, first).
        case ready(pid: Int32)
        /// The coordinator of the request was forked with this pid.
        case forked(pid: Int32)
        /// The request was not carried out (`fork` failed, or a malformed request): an errno.
        case refused(errno: Int32)
    }

    /// A reply as 5 bytes: a kind byte and an Int32.
    public static func encodeReply(_ reply: Reply) -> [UInt8] {
        let (kind, value): (UInt8, Int32) =
            switch reply {
            case .ready(let pid): (UInt8(ascii: "R"), pid)
            case .forked(let pid): (UInt8(ascii: "F"), pid)
            case .refused(let errno): (UInt8(ascii: "E"), errno)
            }
        var bytes = [kind]
        appendUInt32(UInt32(bitPattern: value), to: &bytes)
        return bytes
    }

    /// - Throws: `ForkServerProtocol.Error` for anything but one well-formed reply.
    public static func decodeReply(_ bytes: [UInt8]) throws(ForkServerProtocol.Error) -> Reply {
        guard bytes.count == 5 else { throw Error("fork server reply of \(bytes.count) bytes (expected 5)") }
        var raw: UInt32 = 0
        for index in 0..<4 { raw |= UInt32(bytes[1 + index]) << (8 * UInt32(index)) }
        let value = Int32(bitPattern: raw)
        switch bytes[0] {
        case UInt8(ascii: "R") where value > 0: return .ready(pid: value)
        case UInt8(ascii: "F") where value > 0: return .forked(pid: value)
        case UInt8(ascii: "E") where value > 0: return .refused(errno: value)
        default: throw Error("malformed fork server reply \(bytes)")
        }
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for index in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))) }
    }
}
