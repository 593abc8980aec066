import Testing
import ThermosTestSupport

/// `thermos inspect` through the real binary.
@Suite struct InspectCommandTests {
    @Test func showsTheEvaluatedTaskWithBindings() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.write("hello.yaml", """
            name: greet
            processes:
              - name: hello
                cmdline: "echo hello {{first}} on {{thermos.ports[http]}}"
            """)
        let result = thermos("inspect", "-E", "first=brian", config)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""cmdline": "echo hello brian on {{thermos.ports[http]}}""#))
        #expect(result.stdout.contains(#""min_duration": 5"#))
        let json = thermos("inspect", "--json", "--environment", "first=brian", config)
        #expect(json.stdout.hasPrefix(#"{"processes": [{"daemon": false, "name": "hello""#))
    }

    @Test func selectsATaskAndReportsErrors() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let multi = directory.write("multi.json", #"[{"name": "task1", "processes": [{"name": "a", "cmdline": "true"}]}, {"name": "task2", "processes": [{"name": "b", "cmdline": "true"}]}]"#)
        #expect(thermos("inspect", "--task", "task2", multi).stdout.contains(#""name": "task2""#))
        let noName = thermos("inspect", multi)
        #expect(noName.status == 2)
        #expect(noName.stderr == "\(multi): Multiple tasks in config but no task name specified!\n")
        let unbound = directory.write("unbound.json", #"{"processes": [{"name": "hello", "cmdline": "echo {{first}}"}]}"#)
        #expect(thermos("inspect", unbound).stderr
            == "\(unbound): Invalid task: Unexpected unbound refs: {{first}}. Make sure you are not nesting template variables.\n")
        let cycle = directory.write("cycle.json", #"{"processes": [{"name": "a", "cmdline": "x"}, {"name": "b", "cmdline": "x"}], "constraints": [{"order": ["a", "b", "a"]}]}"#)
        #expect(thermos("inspect", cycle).stderr.contains("Task has invalid plan: Cycles detected in the task schedule!"))
        let broken = directory.write("broken.json", "{")
        let parse = thermos("inspect", broken)
        #expect(parse.status == 2)
        #expect(parse.stderr.hasPrefix("\(broken): not valid JSON/YAML at line"))
        #expect(thermos("inspect", "-E", "novalue", unbound).stderr.contains("-E novalue: expected name=value"))
    }

    @Test func helpForEveryCommand() {
        #expect(thermos("help").stdout.contains("status"))
        for command in ["status", "read", "inspect"] {
            let help = thermos("help", command)
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE: thermos \(command)"))
            #expect(thermos(command, "--help").stdout.contains("USAGE: thermos \(command)"))
        }
    }
}
