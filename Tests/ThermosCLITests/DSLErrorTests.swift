import Testing
import ThermosTestSupport

/// Every DSL error is one line on stderr naming the file (and line), exit 2, never a traceback.
@Suite(.enabled(if: DSLTestPython.hasPython3), .timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct DSLErrorTests {
    static func expectOneLine(_ result: CommandResult, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr == expected + "\n", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Traceback"), sourceLocation: sourceLocation)
    }

    @Test func syntaxErrorNamesFileAndLine() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("broken.thermos", "hello = Process(name = 'hello', cmdline = 'echo hi')\nexport(Task(processes = [hello])\n")
        let result = thermosDSL(["inspect", config])
        Self.expectOneLine(result, "\(config):2: syntax error: '(' was never closed")
    }

    @Test func unknownSchemaAttributeNamesTheLineAndTheClosestAttribute() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("typo.aurora", "# a typo\n\nhello = Process(name = 'hello', cmdlin = 'echo hi')\n")
        Self.expectOneLine(thermosDSL(["inspect", config]), "\(config):3: Unknown schema attribute cmdlin; did you mean cmdline?")
        Self.expectOneLine(
            thermosDSL(["run", "--root", directory.path + "/root", "--sandbox", directory.path + "/sb", config]),
            "\(config):3: Unknown schema attribute cmdlin; did you mean cmdline?")
    }

    @Test func aFileThatExportsNothingOrAJobWithoutTask() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let empty = directory.write("empty.thermos", "x = Process(name = 'a', cmdline = 'b')\n")
        Self.expectOneLine(
            thermosDSL(["inspect", empty]),
            "\(empty): exports nothing: call export(task) (a .thermos file) or define jobs = [...] (an .aurora file)")
        let noJobs = directory.write("none.aurora", "x = 1\n")
        Self.expectOneLine(thermosDSL(["convert", noJobs]), "\(noJobs): defines no jobs: an .aurora file sets jobs = [Job(...), ...]")
        let taskless = directory.write("taskless.aurora", "jobs = [Job(cluster = 'c', role = 'r', environment = 'e', name = 'n')]\n")
        Self.expectOneLine(thermosDSL(["inspect", taskless]), "\(taskless): job c/r/e/n has no task")
    }

    @Test func anUnboundReferenceIsNamedAndMinusEBindsIt() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("unbound.thermos", "export(Task(name = 't', processes = [Process(name = 'p', cmdline = 'echo {{first}}')]))\n")
        Self.expectOneLine(
            thermosDSL(["inspect", config]),
            "\(config): Invalid task: Unexpected unbound refs: {{first}}. Make sure you are not nesting template variables.")
        let bound = thermosDSL(["inspect", "--json", "-E", "first=brian", config])
        #expect(bound.status == 0 && bound.stdout.contains("\"echo brian\""), "\(bound.stderr)")
    }

    @Test func aRuntimeErrorInTheConfigIsOneLineWithItsLine() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        directory.write("lib.thermos", "def helper():\n  return {}['missing']\n")
        let config = directory.write("main.thermos", "include('lib.thermos')\nhelper()\n")
        let result = thermosDSL(["inspect", config])
        Self.expectOneLine(result, "\(directory.path)/lib.thermos:2: KeyError: 'missing'")
        let none = directory.write("none.thermos", "x = None\nx.cmdline\n")
        Self.expectOneLine(thermosDSL(["inspect", none]), "\(none):2: AttributeError: 'NoneType' object has no attribute 'cmdline'")
        let order = directory.write("order.thermos", "order(1)\n")
        Self.expectOneLine(thermosDSL(["inspect", order]), "\(order):1: ValueError: Unknown value for process order: 1")
    }

    @Test func noPystachioOrNoPythonSaysWhatIsMissingAndHowToInstallIt() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("hello.thermos", "export(Task(processes = [Process(name = 'a', cmdline = 'b')]))\n")
        // A python3 that sees no site-packages has no pystachio.
        let bare = directory.write("bare-python", "#!/bin/sh\nexec python3 -S \"$@\"\n")
        _ = CommandRunner.run(["chmod", "+x", bare])
        let withoutPystachio = thermosDSL(["inspect", config], environment: ["THERMOS_PYTHON": bare])
        #expect(withoutPystachio.status == 2)
        #expect(withoutPystachio.stderr.split(separator: "\n").count == 1)
        #expect(withoutPystachio.stderr.hasPrefix("\(config): .thermos configs need pystachio>=0.8.10, which \(bare) lacks"))
        #expect(withoutPystachio.stderr.hasSuffix("install it with: thermos setup-dsl\n"))
        let noPython = thermosDSL(["inspect", config], environment: ["THERMOS_PYTHON": directory.path + "/no-such-python"])
        #expect(noPython.status == 2)
        #expect(noPython.stderr.split(separator: "\n").count == 1)
        #expect(noPython.stderr.contains("cannot start \(directory.path)/no-such-python"))
        #expect(noPython.stderr.hasSuffix("thermos setup-dsl\n"))
    }
}
