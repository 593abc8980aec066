import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Strict YAML/JSON through the binary: unknown keys, duplicate process names, empty and negative
/// values, and the alias bomb — each one line on stderr with exit 2, in `inspect` and `run`.
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct StrictConfigTests {
    static func expectRefused(_ result: CommandResult, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr == expected + "\n", sourceLocation: sourceLocation)
    }

    @Test func unknownKeysAreErrorsWithDidYouMean() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let typo = fixture.config("name: t\nprocesses:\n  - name: a\n    cmdlin: echo a\n", name: "typo.yaml")
        Self.expectRefused(thermos("inspect", typo), "\(typo): processes[0].cmdlin: unknown field; did you mean cmdline?")
        Self.expectRefused(fixture.run(typo, taskID: "typo"), "\(typo): processes[0].cmdlin: unknown field; did you mean cmdline?")
        let proceses = fixture.config("name: t\nproceses:\n  - {name: a, cmdline: echo a}\n", name: "proceses.yaml")
        Self.expectRefused(fixture.run(proceses, taskID: "proceses"), "\(proceses): proceses: unknown field; did you mean processes?")
        #expect(!fixture.taskFileExists("proceses", .finished), "nothing ran")
        let maxFailure = fixture.config(#"{"name": "t", "max_failure": 3, "processes": [{"name": "a", "cmdline": "true"}]}"#)
        Self.expectRefused(thermos("inspect", maxFailure), "\(maxFailure): max_failure: unknown field; did you mean max_failures?")
        let env = fixture.config("processes:\n  - name: a\n    cmdline: echo $X\n    env: {X: 1}\n", name: "env.yaml")
        // `env` is one of our extensions now (issue 10); typos of the new keys get a did-you-mean.
        #expect(thermos("inspect", env).status == 0)
        let dependOn = fixture.config("processes:\n  - name: a\n    cmdline: echo\n    depend_on: {b: ready}\n", name: "depend.yaml")
        Self.expectRefused(thermos("inspect", dependOn), "\(dependOn): processes[0].depend_on: unknown field; did you mean depends_on?")
        let probe = fixture.config("processes:\n  - name: a\n    cmdline: echo\n    liveness: {tcp: '127.0.0.1:1', intervall_secs: 1}\n", name: "probe.yaml")
        Self.expectRefused(thermos("inspect", probe), "\(probe): processes[0].liveness.intervall_secs: unknown field; did you mean interval_secs?")
        // Fields of the original's task JSON that Thermos ignores stay accepted.
        let accepted = fixture.config(#"{"name": "t", "user": "nobody", "resources": {"cpu": 1, "ram": 1, "disk": 1}, "processes": [{"name": "a", "cmdline": "true", "resources": {"cpu": 1, "ram": 1, "disk": 1, "gpu": 0}}]}"#, name: "accepted.json")
        #expect(thermos("inspect", accepted).status == 0)
    }

    @Test func yamlMergeKeysRunInStrictMode() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config("""
            name: merged
            processes:
              - &base {name: first, cmdline: 'echo base >> out', min_duration: 0}
              - <<: *base
                name: second
            constraints: [{order: [first, second]}]
            """, name: "merged.yaml")
        let inspected = thermos("inspect", "--json", config)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let run = fixture.run(config, taskID: "merged")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(fixture.read("out") == "base\nbase\n")
    }

    @Test func duplicateProcessNamesAreAnErrorNotACrash() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"{"name": "dup", "processes": [{"name": "a", "cmdline": "true"}, {"name": "b", "cmdline": "true"}, {"name": "a", "cmdline": "false"}]}"#)
        let expected = "\(config): processes[2].name: Invalid task: Task has two processes named a (processes[0] and processes[2]); process names must be unique"
        Self.expectRefused(thermos("inspect", config), expected)
        let run = fixture.run(config, taskID: "dup")
        Self.expectRefused(run, expected)
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test func emptyProcessesAndNegativeValuesAreErrors() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let empty = fixture.config(#"{"name": "empty", "processes": []}"#, name: "empty.json")
        Self.expectRefused(thermos("inspect", empty), "\(empty): processes: Invalid task: Task has no processes: add at least one under processes")
        Self.expectRefused(fixture.run(empty, taskID: "empty"), "\(empty): processes: Invalid task: Task has no processes: add at least one under processes")
        let cases = [
            (#""max_failures": -1"#, "", "max_failures", -1),
            (#""max_concurrency": -2"#, "", "max_concurrency", -2),
            (#""finalization_wait": -30"#, "", "finalization_wait", -30),
            ("", #", "min_duration": -5"#, "processes[0].min_duration", -5),
            ("", #", "max_failures": -1"#, "processes[0].max_failures", -1),
        ]
        for (index, (taskField, processField, path, value)) in cases.enumerated() {
            let prefix = taskField.isEmpty ? "" : taskField + ", "
            let config = fixture.config(#"{\#(prefix)"name": "n", "processes": [{"name": "a", "cmdline": "true"\#(processField)}]}"#, name: "negative\(index).json")
            let key = path.split(separator: ".").last.map(String.init) ?? path
            Self.expectRefused(thermos("inspect", config), "\(config): \(path): Invalid task: \(key) must not be negative, got \(value)")
        }
    }

    @Test func aNineLevelAliasBombIsRefusedAtOnceByInspectAndRun() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let names = Array("abcdefghi").map(String.init)
        var lines = ["name: bomb", "processes: [{name: p, cmdline: 'true'}]", "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
        for level in 1..<9 {
            lines.append("\(names[level]): &\(names[level]) [\(Array(repeating: "*" + names[level - 1], count: 9).joined(separator: ","))]")
        }
        let text = lines.joined(separator: "\n") + "\n"
        #expect(text.utf8.count < 400)
        let config = fixture.config(text, name: "bomb.yaml")
        for result in [thermos("inspect", config), fixture.run(config, taskID: "bomb")] {
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(result.stderr.hasPrefix("\(config): "))
            #expect(result.stderr.contains("YAML aliases expand to more than 200000 values"))
        }
    }
}
