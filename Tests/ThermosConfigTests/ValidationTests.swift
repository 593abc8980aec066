import Testing
import ThermosConfig

/// The original's validation rules and messages (reference §5.2 "Validation").
@Suite struct ValidationTests {
    func validationError(_ json: String, bindings: [(String, String)] = []) throws -> String? {
        let template = try ConfigLoader.loadTemplates(text: json, path: "t.json")[0]
            .binding(bindings.map { ($0.0, ConfigValue.string($0.1)) })
        do {
            try TaskValidator.validate(template)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func processNames() throws {
        #expect(TaskValidator.isValidProcessName("a.b-c d"))
        for bad in [".hidden", "/abs", "a/b", ""] { #expect(!TaskValidator.isValidProcessName(bad)) }
        #expect(try validationError(#"{"processes": [{"name": "a/b", "cmdline": "x"}]}"#)
            == "t.json: processes[0].name: Invalid task: Task has invalid process: Invalid process name: a/b")
    }

    @Test func typecheck() throws {
        #expect(try validationError(#"{"processes": [{"name": "a"}]}"#)
            == "t.json: processes[0].cmdline: Invalid task: Failed to fully evaluate task: Process[cmdline] is required.")
    }

    @Test func plans() throws {
        let cycle = #"{"processes": [{"name": "a", "cmdline": "x"}, {"name": "b", "cmdline": "x"}], "constraints": [{"order": ["a", "b"]}, {"order": ["b", "a"]}]}"#
        #expect(try validationError(cycle) == "t.json: constraints: Invalid task: Task has invalid plan: Cycles detected in the task schedule!")
        let daemon = #"{"processes": [{"name": "d", "cmdline": "x", "daemon": true}, {"name": "b", "cmdline": "x"}], "constraints": [{"order": ["d", "b"]}]}"#
        #expect(try validationError(daemon)?.hasSuffix("Task has invalid plan: Process b may not depend upon daemon process d") == true)
        let ephemeral = #"{"processes": [{"name": "e", "cmdline": "x", "ephemeral": true}, {"name": "b", "cmdline": "x"}], "constraints": [{"order": ["e", "b"]}]}"#
        #expect(try validationError(ephemeral)?.hasSuffix("Non-ephemeral process b may not depend upon ephemeral process e") == true)
        let mixed = #"{"processes": [{"name": "m", "cmdline": "x"}, {"name": "f", "cmdline": "x", "final": true}], "constraints": [{"order": ["m", "f"]}]}"#
        #expect(try validationError(mixed)?.hasSuffix("Task has invalid plan: Invalid process dependencies!") == true)
        let finalCycle = #"{"processes": [{"name": "f1", "cmdline": "x", "final": true}, {"name": "f2", "cmdline": "x", "final": true}], "constraints": [{"order": ["f1", "f2", "f1"]}]}"#
        #expect(try validationError(finalCycle)?.hasSuffix("Cycles detected in the task schedule!") == true)
        let good = #"{"processes": [{"name": "a", "cmdline": "x"}, {"name": "f", "cmdline": "x", "final": true}, {"name": "g", "cmdline": "x", "final": true}], "constraints": [{"order": ["f", "g"]}]}"#
        #expect(try validationError(good) == nil)
    }

    @Test func unboundReferences() throws {
        let json = #"{"processes": [{"name": "hello", "cmdline": "echo hello {{first}} {{thermos.ports[http]}} {{thermos.task_id}}"}]}"#
        #expect(try validationError(json)
            == "t.json: Invalid task: Unexpected unbound refs: {{first}}. Make sure you are not nesting template variables.")
        #expect(try validationError(json, bindings: [("first", "brian")]) == nil)
    }

    @Test func ports() throws {
        let template = try ConfigLoader.loadTemplates(text: #"{"processes": [{"name": "p", "cmdline": "{{thermos.ports[http]}} {{thermos.ports[admin]}}"}]}"#)[0]
        #expect(throws: Never.self) { try TaskValidator.assertValidPorts(template, ports: ["http": 1, "admin": 2]) }
        #expect {
            try TaskValidator.assertValidPorts(template, ports: ["http": 1])
        } throws: { error in
            (error as? ConfigError)?.message == "Task requires unbound port admin!"
        }
    }
}
