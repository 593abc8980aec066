import Testing
import ThermosConfig

/// YAML merge keys (`<<: *anchor`) apply as YAML users expect, in strict mode too, and stay
/// within the alias expansion limits; `{{&x}}` literals stay escaped for `convert`.
@Suite struct MergeKeyTests {
    static let merged = """
        name: merged
        defaults: &defaults {max_failures: 3, min_duration: 1, daemon: false}
        logged: &logged {logger: {destination: both}}
        processes:
          - <<: *defaults
            name: a
            cmdline: echo a
            max_failures: 5
          - <<: [*logged, *defaults, {max_failures: 9, final: true}]
            name: b
            cmdline: echo b
        """

    @Test func mergeKeysApplyInStrictModeAndExplicitKeysWin() throws {
        // `defaults` and `logged` are unknown top-level keys: strict mode refuses them, so the
        // anchors live under a key the schema knows in the strict case below.
        let lax = try ConfigLoader.loadTemplates(text: Self.merged, path: "m.yaml")[0].evaluate(context: ThermosContext())
        #expect(lax.processes.map(\.maxFailures) == [5, 3])
        #expect(lax.processes.map(\.minDuration) == [1, 1])
        #expect(lax.processes[1].final && lax.processes[1].logger?.destination == .both)

        let strict = """
            name: merged
            processes:
              - &first {name: a, cmdline: echo a, max_failures: 3, min_duration: 1}
              - <<: *first
                name: b
                final: true
            """
        let task = try ConfigLoader.loadTemplates(text: strict, path: "s.yaml", strict: true)[0].evaluate(context: ThermosContext())
        #expect(task.processes.map(\.name) == ["a", "b"])
        #expect(task.processes.map(\.cmdline) == ["echo a", "echo a"])
        #expect(task.processes.map(\.maxFailures) == [3, 3])
        #expect(task.processes.map(\.final) == [false, true])
        // A quoted "<<" is an ordinary key, and so unknown.
        let quoted = "processes:\n  - {name: a, cmdline: x, \"<<\": {daemon: true}}\n"
        #expect(throws: ConfigError.self) { try ConfigLoader.loadTemplates(text: quoted, path: "q.yaml", strict: true) }
    }

    @Test func aMergeOfSomethingElseIsOneLineNamingTheField() {
        let text = "processes:\n  - name: a\n    cmdline: x\n    <<: 5\n"
        do {
            _ = try ConfigLoader.loadTemplates(text: text, path: "bad.yaml", strict: true)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "bad.yaml: processes[0].<<: a merge key takes a mapping or a list of mappings (<<: *anchor)")
        }
    }

    @Test func mergeBombsAreStillRefused() {
        // Each level merges the previous one under nine keys: 9^8 values once expanded.
        var lines = ["name: bomb", "processes: [{name: p, cmdline: 'true'}]", "l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
        for level in 1..<9 {
            let members = (0..<9).map { "k\($0): {<<: *l\(level - 1)}" }.joined(separator: ", ")
            lines.append("l\(level): &l\(level) {\(members)}")
        }
        do {
            _ = try ConfigLoader.loadTemplates(text: lines.joined(separator: "\n") + "\n", path: "bomb.yaml")
            Issue.record("expected the expansion limit")
        } catch {
            #expect(error.description.hasPrefix("bomb.yaml: "))
            #expect(error.description.contains("YAML aliases expand to more than 200000 values"))
        }
    }

    @Test func literalsStayEscapedWhenAskedAndBecomeTextOtherwise() throws {
        let text = #"{"name": "t", "processes": [{"name": "p", "cmdline": "echo {{&x}} {{y}}"}]}"#
        let template = try ConfigLoader.loadTemplates(text: text, path: "l.json")[0].binding([("y", .string("{{&z}}"))])
        #expect(try template.evaluate(context: nil, allowUnbound: true).processes[0].cmdline == "echo {{x}} {{z}}")
        let kept = try template.evaluate(context: nil, allowUnbound: true, keepingLiterals: true)
        #expect(kept.processes[0].cmdline == "echo {{&x}} {{&z}}")
        // What convert writes reads back as the same task.
        let back = try ConfigLoader.loadTemplates(text: kept.configValue.yamlText(), path: "c.yaml", strict: true)[0]
        #expect(try back.evaluate(context: ThermosContext()).processes[0].cmdline == "echo {{x}} {{z}}")
    }
}
