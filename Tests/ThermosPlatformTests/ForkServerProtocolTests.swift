import Testing
import ThermosCoordination

/// The runner↔fork-server messages: a run request carries any invocation's arguments exactly, a
/// spare request a bounded count, and nothing malformed is taken for a request or a reply.
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
        let full = (1...Int32(ForkServerProtocol.sparesPerReply)).map { $0 * 1000 }
        for reply: ForkServerProtocol.Reply in [.ready(pid: 42), .spares(pids: [4_194_303]), .spares(pids: full), .refused(errno: 11)] {
            #expect(try ForkServerProtocol.decodeReply(ForkServerProtocol.encodeReply(reply)) == reply)
        }
        #expect(ForkServerProtocol.encodeReply(.spares(pids: full)).count == ForkServerProtocol.largestReply)
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply([]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("R".utf8) + [0, 0, 0, 0]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("Q".utf8) + [1, 0, 0, 0]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("R".utf8) + [1, 0, 0, 0, 0]) }
        // A spare count that disagrees with the pids that follow, too many, or a pid of 0.
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("S".utf8) + [2, 0, 0, 0, 7, 0, 0, 0]) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("S".utf8) + [0, 0, 0, 0]) }
        let tooMany = ForkServerProtocol.encodeReply(.spares(pids: full + [1]))
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(tooMany) }
        #expect(throws: ForkServerProtocol.Error.self) { try ForkServerProtocol.decodeReply(Array("S".utf8) + [1, 0, 0, 0, 0, 0, 0, 0]) }
    }

    @Test func spareRequestsCarryACountWithinBounds() throws {
        func decode(_ bytes: [UInt8]) throws -> Int {
            try bytes.withUnsafeBytes { try ForkServerProtocol.decodeSpareRequest($0) }
        }
        for count in [1, 16, 200, ForkServerProtocol.largestSpareRequest] {
            #expect(try decode(ForkServerProtocol.encodeSpareRequest(count: count)) == count)
        }
        #expect(throws: ForkServerProtocol.Error.self) { try decode(ForkServerProtocol.encodeSpareRequest(count: 0)) }
        #expect(throws: ForkServerProtocol.Error.self) { try decode(ForkServerProtocol.encodeSpareRequest(count: ForkServerProtocol.largestSpareRequest + 1)) }
        #expect(throws: ForkServerProtocol.Error.self) { try decode(ForkServerProtocol.encodeSpareRequest(count: 1) + [0]) }
        // A run request is not a spare request, nor the other way round.
        #expect(throws: ForkServerProtocol.Error.self) { try decode(ForkServerProtocol.encodeRequest(["x"])) }
        #expect(throws: ForkServerProtocol.Error.self) { try Self.decode(ForkServerProtocol.encodeSpareRequest(count: 1)) }
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
