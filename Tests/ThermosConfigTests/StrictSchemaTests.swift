import Glibc
import Testing
import ThermosConfig
import ThermosTestSupport

/// Strict loading of user configs, the shape rules of validation, the YAML writer of
/// `thermos convert`, and the embedded DSL loader.
@Suite struct StrictSchemaTests {
    static func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return (error as? ConfigError)?.description ?? "\(error)"
        }
    }

    @Test func unknownKeysAreRefusedOnlyWhenStrict() throws {
        let text = #"{"name": "t", "proceses": [], "processes": [{"name": "a", "cmdlin": "x", "cmdline": "y"}]}"#
        #expect(throws: Never.self) { try ConfigLoader.loadTemplates(text: text, path: "t.json") }
        #expect(Self.message { _ = try ConfigLoader.loadTemplates(text: text, path: "t.json", strict: true) }
            == "t.json: proceses: unknown field; did you mean processes?")
        let nested = #"{"processes": [{"name": "a", "cmdline": "y", "logger": {"mode": "rotate", "rotate": {"log_sise": 1}}}]}"#
        #expect(Self.message { _ = try ConfigLoader.loadTemplates(text: nested, path: "n.json", strict: true) }
            == "n.json: processes[0].logger.rotate.log_sise: unknown field; did you mean log_size?")
        let several = #"[{"processes": [{"name": "a", "cmdline": "y"}]}, {"processes": [{"name": "a", "cmdline": "y", "dameon": true}]}]"#
        #expect(Self.message { _ = try ConfigLoader.loadTemplates(text: several, path: "s.json", strict: true) }
            == "s.json: [1].processes[0].dameon: unknown field; did you mean daemon?")
    }

    @Test func legacyTaskFilesOfARootStillLoad() throws {
        // The original's reader drops unknown keys (min_successes, best_effort): so do we there.
        let templates = try ConfigLoader.loadTemplates(path: "\(TestPaths.auroraRoot)/tasks/active/sleep60-lost")
        #expect(templates.count == 1)
    }

    @Test func shapeRulesOfValidation() throws {
        func validate(_ text: String) -> String? {
            Self.message { try TaskValidator.validate(try ConfigLoader.loadTemplates(text: text, path: "v.json")[0]) }
        }
        #expect(validate(#"{"name": "t", "processes": []}"#) == "v.json: processes: Invalid task: Task has no processes: add at least one under processes")
        #expect(validate(#"{"processes": [{"name": "a", "cmdline": "x"}, {"name": "a", "cmdline": "y"}]}"#)
            == "v.json: processes[1].name: Invalid task: Task has two processes named a (processes[0] and processes[1]); process names must be unique")
        #expect(validate(#"{"processes": [{"name": "a", "cmdline": "x", "min_duration": -1}]}"#)
            == "v.json: processes[0].min_duration: Invalid task: min_duration must not be negative, got -1")
        #expect(validate(#"{"finalization_wait": -1, "processes": [{"name": "a", "cmdline": "x"}]}"#)
            == "v.json: finalization_wait: Invalid task: finalization_wait must not be negative, got -1")
        #expect(validate(#"{"processes": [{"name": "a", "cmdline": "x", "max_failures": 0}], "max_failures": 0, "max_concurrency": 0}"#) == nil)
    }

    @Test func yamlOfConvertReadsBackAsTheSameTask() throws {
        let task = TaskConfig(
            name: "yes", processes: [
                ProcessConfig(name: "true", cmdline: "echo 'a: b' \"q\"\n# not a comment", daemon: true,
                              logger: LoggerConfig(destination: .both, mode: .rotate, rotate: RotatePolicy(logSize: 5, backups: 1))),
                ProcessConfig(name: "5", cmdline: "{{thermos.ports[http]}}", resources: Resources(cpu: 1e16, ram: 1, disk: 2)),
            ],
            constraints: [Constraint(order: ["true", "5"])], resources: Resources(cpu: 0.5, ram: 3, disk: 4), user: "null")
        let yaml = task.configValue.yamlText()
        #expect(yaml.contains("    name: \"true\"\n"), "\(yaml)")
        let back = try ConfigLoader.loadTemplates(text: yaml, path: "c.yaml", strict: true)[0].evaluate(context: nil, allowUnbound: true)
        #expect(back == task)
    }

    @Test func theEmbeddedLoaderIsTheCheckedInScript() throws {
        #expect(DSLLoaderScript.parts.map(\.file) == ["loader_prelude.py", "thermos_schema.py", "aurora_schema.py", "loader_main.py"])
        for (name, text) in DSLLoaderScript.parts {
            let path = TestPaths.repositoryRoot + "/Sources/ThermosConfig/DSL/Python/" + name
            let file = String(decoding: readBytes(path) ?? [], as: UTF8.self)
            #expect(!file.isEmpty, "\(path)")
            #expect(text + "\n" == file, "\(name): run scripts/generate-dsl-loader.sh")
        }
        #expect(DSLLoaderScript.source == DSLLoaderScript.parts.map(\.text).joined(separator: "\n"))
    }

    @Test func loaderErrorsBecomeOneLineWithFileAndLine() {
        let request = DSLRequest(file: "conf/a.aurora", absoluteFile: "/work/conf/a.aurora", kind: .aurora)
        #expect(Self.message {
            _ = try DSLResponse.templates(
                from: #"{"error": {"kind": "config", "message": "syntax error: bad", "file": "/work/conf/a.aurora", "line": 4}}"#,
                request: request, python: "py")
        } == "conf/a.aurora:4: syntax error: bad")
        #expect(Self.message {
            _ = try DSLResponse.templates(
                from: #"{"error": {"kind": "config", "message": "KeyError: 'x'", "file": "/work/conf/lib.thermos", "line": 2}}"#,
                request: request, python: "py")
        } == "/work/conf/lib.thermos:2: KeyError: 'x'")
        #expect(Self.message {
            _ = try DSLResponse.templates(
                from: #"{"error": {"kind": "config", "message": "ValueError: first\nsecond", "file": null, "line": null}}"#,
                request: request, python: "py")
        } == "conf/a.aurora: ValueError: first")
        #expect(Self.message { _ = try DSLResponse.templates(from: "", request: request, python: "py") }
            == "conf/a.aurora: the DSL loader (py) gave no result; run thermos setup-dsl to repair its Python")
        // The loader's output is checked as strictly as YAML.
        #expect(Self.message {
            _ = try DSLResponse.templates(from: #"{"tasks": [{"name": "t", "processes": [], "extra": 1}], "job": null}"#, request: request, python: "py")
        } == "conf/a.aurora: extra: unknown field; known fields: name, processes, constraints, resources, max_failures, max_concurrency, finalization_wait, user, health_check")
        #expect(request.argument == #"{"file": "/work/conf/a.aurora", "kind": "aurora", "bindings": [], "job": null}"#)
    }
}
