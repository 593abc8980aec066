import Testing
import ThermosConfig

/// Issue 12 item 5: YAML alias bombs and self-multiplying `{{refs}}` are refused quickly with one
/// line, instead of being expanded into gigabytes.
@Suite struct ExpansionLimitTests {
    /// Nine levels of nine aliases (9^9 = 387 M strings once expanded) in under 400 bytes.
    static func aliasBomb(levels: Int) -> String {
        let names = Array("abcdefghi").map(String.init)
        var lines = ["name: bomb", "processes: [{name: p, cmdline: 'true'}]", "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
        for level in 1..<levels {
            lines.append("\(names[level]): &\(names[level]) [\(Array(repeating: "*" + names[level - 1], count: 9).joined(separator: ","))]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aSmallAliasBombIsRefusedWithOneLine() {
        // Six levels: 9^6 = 531,441 strings; before the limit this loaded (and `processes` ran).
        let text = Self.aliasBomb(levels: 6)
        #expect(throws: ConfigError.self) { try ConfigLoader.loadTemplates(text: text, path: "bomb.yaml") }
        do {
            _ = try ConfigLoader.loadTemplates(text: text, path: "bomb.yaml")
        } catch {
            #expect(error.description.hasPrefix("bomb.yaml: "))
            #expect(error.description.contains("alias"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func theNineLevelBombIsRefused() {
        let text = Self.aliasBomb(levels: 9)
        #expect(text.utf8.count < 400)
        #expect(throws: ConfigError.self) { try ConfigLoader.loadTemplates(text: text, path: "bomb.yaml") }
    }

    @Test func reusingAnAnchorAFewTimesStillWorks() throws {
        let text = """
            name: shared
            resources: &r {cpu: 1, ram: 1024, disk: 2048}
            processes:
              - {name: a, cmdline: 'echo hi', resources: *r}
              - {name: b, cmdline: 'echo hi', resources: *r}
            """
        let task = try ConfigLoader.loadTemplates(text: text)[0].evaluate(context: ThermosContext())
        #expect(task.processes.map(\.name) == ["a", "b"])
        #expect(task.processes.map(\.resources) == Array(repeating: Resources(cpu: 1, ram: 1024, disk: 2048), count: 2))
    }

    @Test func selfMultiplyingReferencesAreRefused() {
        // Each process's cmdline names the next one nine times: 9^8 copies of "x" once resolved.
        var processes: [String] = []
        for index in 0..<9 {
            let body = index == 8 ? "x" : Array(repeating: "{{processes[\(index + 1)].cmdline}}", count: 9).joined()
            processes.append(#"{"name": "p\#(index)", "cmdline": "\#(body)"}"#)
        }
        let text = #"{"name": "refbomb", "processes": [\#(processes.joined(separator: ", "))]}"#
        do {
            _ = try ConfigLoader.loadTemplates(text: text, path: "refs.json")[0].evaluate(context: ThermosContext())
            Issue.record("expected a size error")
        } catch {
            #expect(error.description.hasPrefix("refs.json: "))
            #expect(error.description.contains("larger than"))
        }
    }
}
