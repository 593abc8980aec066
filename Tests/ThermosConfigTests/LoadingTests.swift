import Testing
import ThermosConfig
import ThermosTestSupport

/// Loading Aurora task JSON and YAML, task selection, and one-line errors for bad files.
@Suite struct LoadingTests {
    static let fixtureTasks = [
        "finished/hello_world", "finished/failure", "finished/failure_limit", "finished/ordering",
        "finished/ports", "finished/sleep60", "active/sleep60-lost",
    ]

    @Test(arguments: fixtureTasks)
    func everyFixtureTaskFileLoads(_ name: String) throws {
        let templates = try ConfigLoader.loadTemplates(path: "\(TestPaths.auroraRoot)/tasks/\(name)")
        #expect(templates.count == 1)
        let task = try templates[0].evaluate(context: ThermosContext(taskID: "t", user: "wickman", ports: ["hello": 1, "world": 2]))
        #expect(!task.processes.isEmpty)
        #expect(task.processes.allSatisfy { TaskValidator.isValidProcessName($0.name) })
    }

    @Test func legacyKeysAndIntegerBooleansLoad() throws {
        let template = try #require(ConfigLoader.loadTemplates(path: "\(TestPaths.auroraRoot)/tasks/active/sleep60-lost").first)
        let task = try template.evaluate(context: ThermosContext(user: "wickman"))
        #expect(task.name == "sleep")
        #expect(task.processes.map(\.cmdline) == ["sleep 60; echo hello world"])
        #expect(task.processes[0].daemon == false)
        #expect(task.resources?.cpu == 0.01)
        #expect(task.user == "wickman", "{{thermos.user}} is bound")
    }

    @Test func failureFixtureHasItsProcessesAndResources() throws {
        let template = try #require(ConfigLoader.loadTemplates(path: "\(TestPaths.auroraRoot)/tasks/finished/failure").first)
        let task = try template.evaluate(context: ThermosContext(user: "u"))
        #expect(task.name == "pingping")
        #expect(task.processes.map(\.name) == ["p1", "p2", "p3"])
        #expect(task.processes.allSatisfy { $0.maxFailures == 5 })
        #expect(task.resources == Resources(cpu: 1.0, ram: 16 * 1024 * 1024, disk: 16 * 1024))
    }

    @Test func yamlAndJSONGiveTheSameTask() throws {
        let json = """
            {"name": "t", "max_concurrency": 2, "processes": [{"name": "a", "cmdline": "echo a", "daemon": true},
              {"name": "b", "cmdline": "echo b", "logger": {"mode": "rotate", "rotate": {"log_size": 1024, "backups": 2}}}],
             "constraints": [{"order": ["a", "b"]}]}
            """
        let yaml = """
            name: t
            max_concurrency: 2
            processes:
              - name: a
                cmdline: echo a
                daemon: true
              - name: b
                cmdline: echo b
                logger:
                  mode: rotate
                  rotate: {log_size: 1024, backups: 2}
            constraints:
              - order: [a, b]
            """
        let context = ThermosContext(taskID: "x", user: "u")
        let fromJSON = try ConfigLoader.loadTemplates(text: json)[0].evaluate(context: context)
        let fromYAML = try ConfigLoader.loadTemplates(text: yaml)[0].evaluate(context: context)
        #expect(fromJSON == fromYAML)
        #expect(fromJSON.processes[1].logger == LoggerConfig(destination: .file, mode: .rotate, rotate: RotatePolicy(logSize: 1024, backups: 2)))
        #expect(fromJSON.constraints == [Constraint(order: ["a", "b"])])
    }

    @Test func defaultsOfTheSchema() throws {
        let task = try ConfigLoader.loadTemplates(text: #"{"processes": [{"name": "only", "cmdline": "true"}]}"#)[0]
            .evaluate(context: ThermosContext())
        #expect(task == TaskConfig(name: "only", processes: [ProcessConfig(name: "only", cmdline: "true")]))
        #expect(task.maxFailures == 1 && task.maxConcurrency == 0 && task.finalizationWait == 30)
        #expect(task.processes[0].maxFailures == 1 && task.processes[0].minDuration == 5)
        #expect(!task.processes[0].daemon && !task.processes[0].ephemeral && !task.processes[0].final)
    }

    @Test func severalTasksAndSelection() throws {
        let text = #"{"tasks": [{"name": "task1", "processes": []}, {"name": "task2", "processes": []}]}"#
        let templates = try ConfigLoader.loadTemplates(text: text, path: "multi.json")
        #expect(templates.count == 2)
        #expect(try ConfigLoader.selectTask(templates, named: "task2").rawName == "task2")
        #expect(try ConfigLoader.loadTemplates(text: #"[{"name": "task1"}, {"name": "task2"}]"#).count == 2)
        func message(_ body: () throws -> Void) -> String? {
            do { try body() } catch { return (error as? ConfigError)?.description }
            return nil
        }
        #expect(message { _ = try ConfigLoader.selectTask(templates, named: nil) } == "multi.json: Multiple tasks in config but no task name specified!")
        #expect(message { _ = try ConfigLoader.selectTask(templates, named: "task3") } == "multi.json: Could not find task task3!")
        #expect(message { _ = try ConfigLoader.selectTask([], named: nil) } == "No tasks specified!")
    }

    @Test func malformedFilesGiveOneLineErrorsWithTheFileName() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cases: [(String, String, String)] = [
            ("broken.json", #"{"processes": [{"name": "a""#, "not valid JSON/YAML at line"),
            ("broken.yaml", "name: [unclosed\nprocesses: -", "not valid JSON/YAML at line"),
            ("scalar.json", "42", "expected a task object"),
            ("task.thermos", "export(task)", "a Python DSL config (.thermos/.aurora) is loaded by thermos run/inspect/convert"),
        ]
        for (name, contents, expected) in cases {
            let path = directory.write(name, contents)
            do {
                _ = try ConfigLoader.loadTemplates(path: path)
                Issue.record("\(name) loaded")
            } catch {
                #expect(error.description.hasPrefix(path + ": "), "\(error)")
                #expect(error.description.contains(expected), "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(throws: ConfigError.self) { try ConfigLoader.loadTemplates(path: directory.path + "/missing.json") }
    }

    @Test func typecheckErrorsNameTheField() {
        let cases: [(String, String)] = [
            (#"{"processes": [{"name": "a", "cmdline": "x"}, {"name": "b"}]}"#, "processes[1].cmdline: Process[cmdline] is required."),
            (#"{"processes": [{"name": "a", "cmdline": "x", "max_failures": "abc"}]}"#,
             "processes[0].max_failures: Process[max_failures] failed: Unable to interpolate: Cannot coerce 'abc' to Integer"),
            (#"{"processes": [{"name": "a", "cmdline": "x", "logger": {"destination": "disk"}}]}"#,
             "processes[0].logger.destination: Logger[destination] failed: 'disk' not in the enumeration (file, console, both, none)"),
            (#"{"processes": [{"name": "a", "cmdline": "x"}], "resources": {"cpu": 1}}"#, "resources.ram: Resources[ram] is required."),
            (#"{"name": "t", "processes": {"name": "a"}}"#, "processes: expected a list, got an object"),
        ]
        for (text, expected) in cases {
            do {
                _ = try ConfigLoader.loadTemplates(text: text, path: "t.json")[0].evaluate(context: ThermosContext())
                Issue.record("\(text) evaluated")
            } catch {
                #expect(error.description == "t.json: " + expected)
            }
        }
    }

    @Test func coercions() throws {
        let text = #"{"processes": [{"name": "a", "cmdline": "x", "max_failures": "3", "daemon": "True", "ephemeral": 1, "final": "0"}], "resources": {"cpu": "0.5", "ram": 1, "disk": 2.0}}"#
        let task = try ConfigLoader.loadTemplates(text: text)[0].evaluate(context: ThermosContext())
        #expect(task.processes[0].maxFailures == 3)
        #expect(task.processes[0].daemon && task.processes[0].ephemeral && !task.processes[0].final)
        #expect(task.resources == Resources(cpu: 0.5, ram: 1, disk: 2))
    }
}
