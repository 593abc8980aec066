import OrderedCollections
import Testing
import ThermosConfig
import ThermosTestSupport

/// The Foundation-free JSON parser the runner reads its task with: it reads back exactly what
/// `jsonText()` writes, agrees with the YAML/JSON file loader on task files, and refuses
/// anything that is not JSON with the byte offset.
@Suite struct JSONParserTests {
    @Test func scalarsListsAndMapsKeepTheirTypesAndKeyOrder() throws {
        let value = try JSONParser.parse(#" {"z": 1, "a": [true, false, null, -0.5, 1e3, "x"], "m": {}, "l": []} "#)
        #expect(value == .map(["z": .integer(1), "a": .list([.bool(true), .bool(false), .null, .double(-0.5), .double(1000), .string("x")]), "m": .map([:]), "l": .list([])]))
        #expect(value.mapValue.map { Array($0.keys) } == ["z", "a", "m", "l"])
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00é""#)
        #expect(value == .string("a\"b\\c/d\u{08}\u{0C}\n\r\té😀é"))
    }

    @Test func pythonNonFiniteFloatsAreAccepted() throws {
        let value = try JSONParser.parse("[NaN, Infinity, -Infinity]")
        guard case .list(let items) = value, case .double(let nan) = items[0] else { Issue.record("\(value)"); return }
        #expect(nan.isNaN)
        #expect(Array(items.dropFirst()) == [.double(.infinity), .double(-.infinity)])
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "expected a string key"),
        ("[1, 2,]", "unexpected character ']'"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\""),
        ("\"tab\there\"", "control character"),
        ("{\"a\": 1} x", "unexpected text after the JSON value"),
        ("99999999999999999999", "out of range"),
        ("01", "unexpected text after the JSON value"),
        ("1.", "expected a digit after '.'"),
        ("\"\\ud83d\"", "surrogate"),
        ("\"\\x\"", "invalid escape"),
        ("'a'", "unexpected character"),
        ("", "unexpected end"),
        ("tru", "unexpected character"),
    ])
    func malformedJSONIsAnErrorWithTheOffset(text: String, expected: String) {
        #expect {
            try JSONParser.parse(text, file: "t.json")
        } throws: { error in
            let description = "\(error)"
            return description.hasPrefix("t.json: not valid JSON at byte ") && description.contains(expected)
        }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: ConfigError.self) { try JSONParser.parse(deep) }
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(try JSONParser.parse(allowed).listValue != nil)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: ConfigError.self) { try JSONParser.parse(bytes: Array("\"a".utf8) + [0xFF, 0x22]) }
    }

    /// Property: whatever `jsonText()` writes reads back as the same value (NaN aside, which is
    /// never equal to itself).
    @Test func everyValueRoundTripsThroughItsJSONText() throws {
        var generator = SeededGenerator(seed: 20261203)
        for _ in 0..<500 {
            let value = Self.randomValue(depth: 0, using: &generator)
            #expect(try JSONParser.parse(value.jsonText()) == value, "\(value.jsonText())")
            #expect(try JSONParser.parse(value.prettyJSONText()).prettyJSONText() == value.prettyJSONText())
        }
    }

    /// The runner (this parser) and the CLI's loader (libyaml) read every task file of the
    /// original's fixture root as the same task.
    @Test(arguments: LoadingTests.fixtureTasks)
    func fixtureTaskFilesReadAsTheLoaderReadsThem(_ name: String) throws {
        let path = "\(TestPaths.auroraRoot)/tasks/\(name)"
        let text = String(decoding: try #require(readBytes(path)), as: UTF8.self)
        let ours = try TaskDocument.templates(json: text, path: path)
        let loaders = try ConfigLoader.loadTemplates(path: path)
        #expect(ours == loaders)
    }

    static func randomValue(depth: Int, using generator: inout SeededGenerator) -> ConfigValue {
        let pick = Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator)
        switch pick {
        case 0: return .string(randomString(using: &generator))
        case 1: return .integer(Int64.random(in: Int64.min...Int64.max, using: &generator))
        case 2:
            let doubles: [Double] = [0.1, 1.0, -2.5, 1e16, 1e-7, .infinity, -.infinity, 123456.789, Double.greatestFiniteMagnitude, 5e-324]
            return .double(Bool.random(using: &generator) ? doubles.randomElement(using: &generator)! : Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF))
        case 3: return .bool(Bool.random(using: &generator))
        case 4: return .null
        case 5: return .list((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var members: OrderedDictionary<String, ConfigValue> = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                members[randomString(using: &generator)] = randomValue(depth: depth + 1, using: &generator)
            }
            return .map(members)
        }
    }

    static func randomString(using generator: inout SeededGenerator) -> String {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{7F}", "é", "€", "😀", "{", "}"]
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &generator) { text.unicodeScalars.append(alphabet.randomElement(using: &generator)!) }
        return text
    }
}
