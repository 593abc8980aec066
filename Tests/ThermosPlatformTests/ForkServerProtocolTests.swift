import Testing
import ThermosCoordination

/// The runner↔fork-server messages: a request carries any invocation's arguments exactly, and
/// nothing malformed is taken for a request or a reply.
struct ForkServerProtocolTests {
    static func decode(_ bytes: [UInt8]) throws -> [String] {
        try bytes.withUnsafeBytes { try ForkServerProtocol.decodeRequest($0) }
    }

    @Test func aRequestCarriesAnInvocationsArgumentsExactly() throws {
        var invocation = CoordinatorInvocationTests.sample()
        invocation.cmdline = "printf 'a\\0b' ; echo \u{0}embedded NUL, ünïcødé, \n newline"
        let arguments = invocation.arguments
        let decoded = try Self.decode(ForkServerProtocol.encodeRequest(arguments))
        #expect(decoded == arguments)
        #expect(try CoordinatorInvocation(arguments: decoded) == invocation)
        #expect(try Self.decode(ForkServerProtocol.encodeRequest([])) == [])
        #expect(try Self.decode(ForkServerProtocol.encodeRequest(["", "", "x"])) == ["", "", "x"])
    }

    /// New invocation fields travel without any change to the protocol: it carries the list.
    @Test func unknownArgumentsPassThroughUninterpreted() throws {
        let arguments = ["--some-future-flag", "value", "--another"]
        #expect(try Self.decode(ForkServerProtocol.encodeRequest(arguments)) == arguments)
    }

    @Test func malformedRequestsAreRejected() {
        let good = ForkServerProtocol.encodeRequest(["--process", "p"])
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode([]) }
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode(Array("XXXX".utf8) + good.dropFirst(4)) }
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode(Array(good.dropLast())) }
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode(good + [0]) }
        // An argument count or length that overruns the message.
        var overrun = good
        overrun[4] = 0xff
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode(overrun) }
        var long = good
        long[8] = 0xff
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode(long) }
    }

    @Test func repliesRoundTripAndMalformedOnesAreRejected() throws {
        for reply: ForkServerProtocol.Reply in [.ready(pid: 42), .forked(pid: 4_194_303), .refused(errno: 11)] {
            #expect(try ForkServerProtocol.decodeReply(ForkServerProtocol.encodeReply(reply)) == reply)
        }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply([]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("F".utf8) + [0, 0, 0, 0]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("Q".utf8) + [1, 0, 0, 0]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("F".utf8) + [1, 0, 0, 0, 0]) }
    }

    @Test func theServerCommandLineIsRecognisedStrictly() {
        let line = ForkServerProtocol.serverArguments(binary: "/bin/thermos-coordinator", sandbox: "/sb")
        #expect(line == ["/bin/thermos-coordinator", "--fork-server", "--sandbox", "/sb"])
        #expect(ForkServerProtocol.isServerInvocation(Array(line.dropFirst())))
        #expect(ForkServerProtocol.isServerInvocation(["--fork-server"]))
        #expect(!ForkServerProtocol.isServerInvocation(["--fork-server", "--sandbox"]))
        #expect(!ForkServerProtocol.isServerInvocation(["--fork-server", "--other", "x"]))
        #expect(!ForkServerProtocol.isServerInvocation(["--process", "p"]))
    }
}
