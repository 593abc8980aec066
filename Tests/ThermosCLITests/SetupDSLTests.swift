import Testing
import ThermosTestSupport

/// `thermos setup-dsl` for real: a venv in a temporary XDG_DATA_HOME with pystachio from PyPI,
/// then found by `inspect` without `$THERMOS_PYTHON`.
@Suite(.enabled(if: DSLTestPython.hasPython3), .timeLimit(.minutes(6)))
struct SetupDSLTests {
    @Test func setupDSLMakesTheVenvThatInspectThenUses() {
        let directory = TemporaryDirectory(prefix: "thermos-setup-dsl")
        defer { directory.remove() }
        let data = directory.path + "/data"
        let config = directory.write("hello.thermos", "export(Task(name = 'hi', processes = [Process(name = 'a', cmdline = 'echo hi')]))\n")
        let environment = ["XDG_DATA_HOME": data]
        // Before: python3 from PATH has no pystachio (the venv does not exist yet).
        let before = thermos(["inspect", config], environment: environment)
        if before.status == 0 {
            Issue.record("python3 on PATH already has pystachio; the fallback cannot be told from the venv here")
        } else {
            #expect(before.status == 2 && before.stderr.hasSuffix("install it with: thermos setup-dsl\n"), "\(before.stderr)")
        }
        let setup = thermos(["setup-dsl"], environment: environment)
        #expect(setup.status == 0, "\(setup.stderr)")
        #expect(setup.stdout == "DSL ready: \(data)/thermos/dsl-venv/bin/python3\n")
        let after = thermos(["inspect", "--json", config], environment: environment)
        #expect(after.status == 0, "\(after.stderr)")
        #expect(canonicalJSON(after.stdout) == canonicalJSON("""
            {"name": "hi", "processes": [{"name": "a", "cmdline": "echo hi", "max_failures": 1, "min_duration": 5,
              "daemon": false, "ephemeral": false, "final": false}],
             "constraints": [], "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
            """))
    }
}
