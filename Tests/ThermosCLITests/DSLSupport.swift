import Glibc
import Testing
import ThermosTestSupport

/// The Python the DSL tests run the loader with: `$THERMOS_PYTHON`, else the venv
/// `thermos setup-dsl` makes (`.ci/run` creates it) under the real home. The DSL tests are
/// skipped only where `python3` itself is missing; a python3 without pystachio fails them.
enum DSLTestPython {
    static let hasPython3: Bool = {
        let found = CommandRunner.run(["python3", "-c", "pass"]).status == 0
        if !found { print("DSL tests skipped: python3 is not installed") }
        return found
    }()

    static let path: String = {
        if let chosen = getenv("THERMOS_PYTHON").map({ String(cString: $0) }), !chosen.isEmpty { return chosen }
        if let data = getenv("XDG_DATA_HOME").map({ String(cString: $0) }), data.hasPrefix("/") {
            return data + "/thermos/dsl-venv/bin/python3"
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/root"
        return home + "/.local/share/thermos/dsl-venv/bin/python3"
    }()

    /// The environment for `thermos` in a DSL test; records an issue when no pystachio is found.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        let python = path
        if CommandRunner.run([python, "-c", "import pystachio"]).status != 0 {
            Issue.record("no Python with pystachio at \(python): run `thermos setup-dsl` (or set THERMOS_PYTHON)")
        }
        return ["THERMOS_PYTHON": python].merging(extra) { $1 }
    }
}

/// `text` as canonical JSON (sorted keys, Python's `json`): an independent judge of equality.
func canonicalJSON(_ text: String) -> String {
    let script = "import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))"
    let result = CommandRunner.run(["python3", "-c", script, text])
    return result.status == 0 ? result.stdout : "unparseable JSON: \(text) \(result.stderr)"
}

/// `thermos` with the DSL's Python.
func thermosDSL(_ arguments: [String], directory: String? = nil, environment extra: [String: String] = [:]) -> CommandResult {
    var environment = ["TZ": "UTC", "PATH": "/usr/bin:/bin", "HOME": "/tmp"]
    environment.merge(DSLTestPython.environment(extra)) { $1 }
    return CommandRunner.run([TestPaths.builtBinary("thermos")] + arguments, environment: environment, directory: directory)
}
