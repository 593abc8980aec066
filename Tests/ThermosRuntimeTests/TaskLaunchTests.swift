import Testing
import ThermosConfig
import ThermosRuntime

/// The launch pipeline `run`, `simplerun` and `runner` share: ports → validate → evaluate.
@Suite struct TaskLaunchTests {
    static let text = """
        {"name": "hello", "processes": [{"name": "web", "cmdline": "serve {{thermos.ports[http]}} {{thermos.task_id}} {{thermos.user}}"}],
         "resources": {"cpu": 1, "ram": 1048576, "disk": 1048576}}
        """

    func template(_ text: String = Self.text) throws -> TaskTemplate {
        try #require(ConfigLoader.loadTemplates(text: text, path: "hello.json").first)
    }

    @Test func portBindingsParseAndTheLastOneWins() throws {
        #expect(try TaskLaunch.parsePorts(["http:80", "admin:0", "http:8080"]) == ["http": 8080, "admin": 0])
        for bad in ["http", ":80", "http:x", "http:70000", "http:-1"] {
            let error = #expect(throws: LaunchError.self) { try TaskLaunch.parsePorts([bad]) }
            #expect(error?.code == .invalidPortBinding)
            #expect(error?.message.contains("\"\(bad)\"") == true)
        }
    }

    @Test func unboundPortsAreNamedSorted() throws {
        let text = Self.text.replacing("{{thermos.user}}", with: "{{thermos.ports[admin]}}")
        let error = #expect(throws: LaunchError.self) {
            try TaskLaunch(ports: [:], launchTime: 0).check(template(text))
        }
        #expect(error?.code == .unboundPorts)
        #expect(error?.missingPorts == ["admin", "http"])
        #expect(error?.message == "Unbound ports: admin http")
        try TaskLaunch(ports: ["http": 1, "admin": 2], launchTime: 0).check(template(text))
    }

    @Test func invalidTasksKeepTheirConfigError() throws {
        let text = Self.text.replacing("\"web\"", with: "\"../web\"")
        let error = #expect(throws: LaunchError.self) {
            try TaskLaunch(ports: ["http": 1], launchTime: 0).check(template(text))
        }
        #expect(error?.code == .invalidTask)
        #expect(error?.cause != nil)
        #expect(error?.message == error?.cause?.description)
    }

    @Test func evaluationBindsTheTaskIDAndUser() throws {
        let launch = TaskLaunch(ports: ["http": 8080], launchTime: 1_700_000_000.25)
        let named = try launch.evaluate(template(), user: "alice", taskID: "t-1")
        #expect(named.taskID == "t-1")
        #expect(named.task.processes[0].cmdline == "serve 8080 t-1 alice")
        let defaulted = try launch.evaluate(template(), user: "alice", taskID: nil)
        #expect(defaulted.taskID == TaskLaunch.defaultTaskID(name: "hello", at: 1_700_000_000.25))
        #expect(defaulted.taskID.hasPrefix("hello-") && defaulted.taskID.hasSuffix(".250000"))
        #expect(defaulted.task.processes[0].cmdline == "serve 8080 \(defaulted.taskID) alice")
    }

    @Test func anUnboundReferenceIsAnInvalidTask() throws {
        let text = Self.text.replacing("{{thermos.user}}", with: "{{nobody}}")
        let error = #expect(throws: LaunchError.self) {
            try TaskLaunch(ports: ["http": 1], launchTime: 0).evaluate(template(text), user: "u", taskID: "t")
        }
        #expect(error?.code == .invalidTask)
        #expect(error?.message.contains("{{nobody}}") == true)
    }

    @Test func commandLineTasksAreNotTemplatedAndNeedAValidName() throws {
        let task = try TaskLaunch.commandLineTask(name: "simple", cmdline: "echo {{x}}")
        #expect(task.processes.map(\.cmdline) == ["echo {{x}}"])
        #expect(task.resources == Resources(cpu: 1, ram: 268_435_456, disk: 0))
        let launched = TaskLaunch(ports: [:], launchTime: 5).identify(task, taskID: nil)
        #expect(launched.taskID == TaskLaunch.defaultTaskID(name: "simple", at: 5))
        let error = #expect(throws: LaunchError.self) { try TaskLaunch.commandLineTask(name: ".hidden", cmdline: "true") }
        #expect(error?.code == .invalidProcessName)
    }

    @Test func theRunnerConfigurationCarriesPortsAndLaunchTime() {
        let launch = TaskLaunch(ports: ["http": 9], launchTime: 42)
        let launched = LaunchedTask(task: TaskConfig(name: "n", processes: []), taskID: "id")
        let configuration = launch.configuration(
            launched, root: "/r", sandbox: "/s", user: "u", uid: 7, hostname: "h", totalRunLimit: 3)
        #expect(configuration.taskID == "id" && configuration.ports == ["http": 9] && configuration.launchTime == 42)
        #expect(configuration.logDir == "/s/.logs" && configuration.totalRunLimit == 3 && configuration.uid == 7)
    }
}
