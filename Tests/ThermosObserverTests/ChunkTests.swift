import Hummingbird
import HummingbirdTesting
import Testing
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosObserver
import ThermosTestSupport

/// The byte-level chunk encoder prints what `ConfigValue.jsonText()` printed, whole or streamed.
@Suite struct ChunkTests {
    func reference(offset: Int64, _ bytes: [UInt8]) -> String {
        ConfigValue.map([
            "offset": .integer(offset), "length": .integer(Int64(bytes.count)),
            "data": .string(SafeFiles.xmlEscape(String(decoding: bytes, as: UTF8.self))),
        ]).jsonText()
    }

    @Test func encoderMatchesTheReference() {
        let samples: [[UInt8]] = [
            Array("plain text\n".utf8), Array("<b>a & b</b> \"q\" \\ \t\r\u{7f}\u{01}".utf8), Array("é € 😀 日本".utf8),
            [0xFF, 0x41, 0xC3, 0x28, 0xE2, 0x82], (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 37) },
        ]
        for bytes in samples {
            #expect(String(decoding: ChunkJSON.encode(offset: 3, bytes: bytes), as: UTF8.self) == reference(offset: 3, bytes))
        }
        #expect(ChunkJSON.incompleteTail(Array("ab".utf8) + [0xE2, 0x82]) == 2)
        #expect(ChunkJSON.incompleteTail(Array("ab€".utf8)) == 0)
        #expect(ChunkJSON.incompleteTail([0x41, 0xF0]) == 1)
    }

    @Test func planSaturates() {
        #expect(ChunkJSON.plan(offset: nil, length: nil, size: 10, maximum: 4) == .empty(offset: 10))
        #expect(ChunkJSON.plan(offset: "2", length: nil, size: 10, maximum: 4) == .data(offset: 2, length: 4))
        #expect(ChunkJSON.plan(offset: "9223372036854775807", length: "9223372036854775807", size: 10, maximum: 4) == .empty(offset: .max))
        #expect(ChunkJSON.plan(offset: "-5", length: "-9223372036854775808", size: 10, maximum: 4) == .empty(offset: 0))
        #expect(ChunkJSON.plan(offset: "x", length: nil, size: 10, maximum: 4) == nil)
    }

    @Test func largeChunksStreamTheSameBytes() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        let (sandbox, _) = try builder.addSimpleTask("t", directory: .active, processes: [.init("p", .running)], finalState: nil)
        // 1.5 MiB of mixed text: multi-byte characters straddle every 256 KiB slice boundary.
        var text: [UInt8] = []
        while text.count < 3 << 19 { text += Array("line <\(text.count)> & é€😀 \"x\"\n".utf8) }
        let bytes = text
        builder.writeFile(sandbox + "/big.txt", bytes)
        try await withObserver([directory.path]) { _, client in
            try await client.execute(uri: "/filedata/t/big.txt?offset=7&length=1200000", method: .get) { response in
                let expected = reference(offset: 7, Array(bytes[7..<1_200_007]))
                #expect(String(buffer: response.body) == expected)
            }
            try await client.execute(uri: "/filedata/t/big.txt?offset=0", method: .get) { response in
                #expect(String(buffer: response.body) == reference(offset: 0, bytes))
            }
        }
    }
}
