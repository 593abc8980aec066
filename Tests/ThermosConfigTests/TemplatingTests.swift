import Testing
import ThermosConfig

/// pystachio-style templating: scopes, bindings, iteration, literals, thermos context, ports.
@Suite struct TemplatingTests {
    func template(_ json: String) throws(ConfigError) -> TaskTemplate {
        try ConfigLoader.loadTemplates(text: json, path: "t.json")[0]
    }

    func cmdlines(_ json: String, bindings: [(String, String)] = [], context: ThermosContext = ThermosContext()) throws -> [String] {
        try template(json).binding(bindings.map { ($0.0, ConfigValue.string($0.1)) })
            .evaluate(context: context).processes.map(\.cmdline)
    }

    @Test func aStructsOwnFieldsAreVisibleToItsMembers() throws {
        #expect(try cmdlines(#"{"processes": [{"name": "installer", "cmdline": "echo {{name}} {{self.min_duration}} {{max_failures}}"}]}"#)
            == ["echo installer 5 1"])
    }

    @Test func enclosingTaskFieldsAreVisibleAndTheClosestWins() throws {
        let json = #"{"name": "outer", "max_concurrency": 3, "processes": [{"name": "inner", "cmdline": "{{name}} {{max_concurrency}}"}]}"#
        #expect(try cmdlines(json) == ["inner 3"])
        // A binding does not override a field of the struct itself (closest scope wins).
        #expect(try cmdlines(json, bindings: [("name", "bound")]) == ["inner 3"])
    }

    @Test func bindingsIncludingDottedAddresses() throws {
        let json = #"{"processes": [{"name": "hello", "cmdline": "echo hello {{first}} {{a.b}} {{a.c}}"}]}"#
        #expect(try cmdlines(json, bindings: [("first", "brian"), ("a.b", "x"), ("a.c", "y")]) == ["echo hello brian x y"])
        #expect(try cmdlines(json, bindings: [("first", "one"), ("first", "two"), ("a.b", ""), ("a.c", "")]) == ["echo hello two  "])
    }

    @Test func iterativeResolutionAndLiterals() throws {
        let json = #"{"processes": [{"name": "p", "cmdline": "{{metavar{{number}}}} {{&first}} {{chain}}"}]}"#
        let result = try cmdlines(json, bindings: [("number", "2"), ("metavar2", "deep"), ("chain", "{{number}}{{number}}")])
        #expect(result == ["deep {{first}} 22"])
    }

    @Test func runawayTemplatingIsAnErrorNotAHang() throws {
        let json = #"{"processes": [{"name": "p", "cmdline": "{{loop}}"}]}"#
        #expect(throws: ConfigError.self) {
            try cmdlines(json, bindings: [("loop", "x{{loop}}")])
        }
    }

    @Test func defaultNameIsTheFirstProcessName() throws {
        let task = try template(#"{"processes": [{"name": "first_proc", "cmdline": "true"}, {"name": "second", "cmdline": "true"}]}"#)
            .evaluate(context: ThermosContext())
        #expect(task.name == "first_proc")
    }

    @Test func thermosContextAndPorts() throws {
        let json = #"{"processes": [{"name": "echo", "cmdline": "echo {{thermos.ports[hello]}} {{thermos.ports[world]}} {{thermos.task_id}} {{thermos.user}}"}]}"#
        let context = ThermosContext(taskID: "ports", user: "root", ports: ["hello": 50000, "world": 50001])
        #expect(try cmdlines(json, context: context) == ["echo 50000 50001 ports root"])
        #expect(try template(json).requiredPorts() == ["hello", "world"])
        // Process names may use thermos.task_id (the executor's hello_world_{{thermos.task_id}}).
        let named = try template(#"{"processes": [{"name": "hello_world_{{thermos.task_id}}", "cmdline": "true"}]}"#)
            .evaluate(context: ThermosContext(taskID: "hello_world-001"))
        #expect(named.processes[0].name == "hello_world_hello_world-001")
    }

    @Test func unboundReferencesAreReportedByName() throws {
        let json = #"{"processes": [{"name": "hello", "cmdline": "echo {{first}} {{thermos.ports[http]}}"}]}"#
        let (value, unbound) = try template(json).interpolated(context: nil)
        #expect(unbound == ["first", "thermos.ports[http]"])
        #expect(value["processes"]?.listValue?.first?["cmdline"] == .string("echo {{first}} {{thermos.ports[http]}}"))
        do {
            _ = try template(json).evaluate(context: ThermosContext(ports: ["http": 80]))
            Issue.record("evaluated with an unbound ref")
        } catch {
            #expect(error.description == "t.json: Failed to interpolate task, missing: {{first}}")
        }
    }

    @Test func badPortSpecification() {
        #expect {
            try template(#"{"processes": [{"name": "p", "cmdline": "{{thermos.ports.http}}"}]}"#).requiredPorts()
        } throws: { error in
            (error as? ConfigError)?.message == #"Bad port specification "thermos.ports.http" (should be of form "thermos.ports[name]""#
        }
    }

    @Test func textThatIsNotAReferenceStaysAsItIs() throws {
        #expect(try cmdlines(#"{"processes": [{"name": "p", "cmdline": "awk '{{print $1}}' {{ 1bad }}"}]}"#)
            == ["awk '{{print $1}}' {{ 1bad }}"])
    }
}
