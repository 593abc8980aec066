import Testing
import ThermosConfig

/// The `schema_helpers` combinators (reference §5.4, §6.4) and task JSON.
@Suite struct CombinatorTests {
    let p1 = ProcessConfig(name: "p1", cmdline: "echo 1")
    let p2 = ProcessConfig(name: "p2", cmdline: "echo 2")
    let p3 = ProcessConfig(name: "p3", cmdline: "echo 3")
    let p4 = ProcessConfig(name: "p4", cmdline: "echo 4")

    @Test func order() {
        #expect(Tasks.order([p1, p2]) == [Constraint(order: ["p1", "p2"])])
        #expect(Tasks.order(["p1", "p2"]) == Tasks.order([p1, p2]))
    }

    @Test func resources() {
        let a = Resources(cpu: 1, ram: 10, disk: 100, gpu: 1)
        let b = Resources(cpu: 2, ram: 5, disk: 200, gpu: 0)
        #expect(Tasks.resourcesSum([]) == Resources(cpu: 0, ram: 0, disk: 0, gpu: 0))
        #expect(Tasks.resourcesSum([a, nil, b]) == Resources(cpu: 3, ram: 15, disk: 300, gpu: 1))
        #expect(Tasks.resourcesMax([a, b]) == Resources(cpu: 2, ram: 10, disk: 200, gpu: 1))
    }

    @Test func combineAndConcat() {
        let t1 = TaskConfig(name: "t1", processes: [p1, p2], resources: Resources(cpu: 1, ram: 1, disk: 1), finalizationWait: 60)
        let t2 = TaskConfig(name: "t2", processes: [p3, p4], resources: Resources(cpu: 2, ram: 2, disk: 2), finalizationWait: 45)
        #expect(Tasks.combine([]) == TaskConfig(name: ""))
        #expect(Tasks.combine([t1]) == t1.with { $0.resources = Resources(cpu: 1, ram: 1, disk: 1) })
        let combined = Tasks.combine([t1, t2])
        #expect(combined.name == "t2")
        #expect(combined.processes == [p1, p2, p3, p4])
        #expect(combined.resources == Resources(cpu: 3, ram: 3, disk: 3))
        #expect(combined.finalizationWait == 60)
        let concatenated = Tasks.concat([t1, t2])
        #expect(concatenated.name == "t2")
        #expect(Set(concatenated.constraints) == Set([["p1", "p3"], ["p1", "p4"], ["p2", "p3"], ["p2", "p4"]].map(Constraint.init)))
        #expect(concatenated.resources == Resources(cpu: 2, ram: 2, disk: 2))
        #expect(concatenated.finalizationWait == 105)
    }

    @Test func simpleAndSequential() throws {
        let simple = Tasks.simple(name: "simple_thing", command: "echo hello")
        #expect(simple.processes == [ProcessConfig(name: "simple_thing", cmdline: "echo hello")])
        #expect(simple.constraints.isEmpty)
        #expect(simple.resources == Resources(cpu: 1.0, ram: 1 << 30, disk: 1 << 30))
        let sequential = try Tasks.sequential(TaskConfig(name: "s", processes: [p1, p2, p3]))
        #expect(sequential.constraints == [Constraint(order: ["p1", "p2", "p3"])])
        #expect(throws: ConfigError.self) { try Tasks.sequential(sequential) }
    }

    @Test func options() {
        let options: [CommandOption] = [.flag("a"), .value("b", "1"), .value("cow", "foo")]
        #expect(Options.java(options) == "-a -b 1 -cow foo")
        #expect(Options.python(options) == "-a -b 1 --cow foo")
        #expect(Options.java([.value("a", "1"), .value("b", "2"), .value("c", "3")]) == "-a 1 -b 2 -c 3")
        #expect(Options.java([.value("c", "3"), .value("b", "2"), .value("a", "1")]) == "-c 3 -b 2 -a 1")
        #expect(Options.python([.value("x", nil), .value("verbose", "")]) == "-x --verbose")
    }

    @Test func taskJSONMatchesTheOriginalShapeAndRoundTrips() throws {
        let task = TaskConfig(
            name: "hello_world",
            processes: [ProcessConfig(name: "hello", cmdline: "echo hello world")],
            resources: Resources(cpu: 0.1, ram: 16_777_216, disk: 16_777_216))
        #expect(task.configValue.jsonText() == #"{"processes": [{"daemon": false, "name": "hello", "ephemeral": false, "max_failures": 1, "min_duration": 5, "cmdline": "echo hello world", "final": false}], "name": "hello_world", "finalization_wait": 30, "max_failures": 1, "max_concurrency": 0, "resources": {"cpu": 0.1, "ram": 16777216, "disk": 16777216, "gpu": 0}, "constraints": []}"#)
        #expect(try TaskConfig(configValue: task.configValue) == task)
        let reloaded = try ConfigLoader.loadTemplates(text: task.configValue.jsonText())[0].evaluate(context: ThermosContext())
        #expect(reloaded == task)
        #expect(ConfigValue.string("é\"\n").jsonText() == #""\u00e9\"\n""#)
    }
}

extension TaskConfig {
    func with(_ change: (inout TaskConfig) -> Void) -> TaskConfig {
        var copy = self
        change(&copy)
        return copy
    }
}
