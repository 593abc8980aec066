import CThermosSys
import Glibc
import ThermosConfig
import ThermosPlatform

/// Where the DSL's Python lives: `$THERMOS_PYTHON`, else the venv `thermos setup-dsl` made
/// (`$XDG_DATA_HOME/thermos/dsl-venv`, by default `~/.local/share/thermos/dsl-venv`), else
/// `python3` from `PATH`.
enum DSLPython {
    static let pystachioRequirement = "pystachio==0.8.10"

    /// The per-user venv of `thermos setup-dsl`.
    static var venvDirectory: String {
        if let data = environment("XDG_DATA_HOME"), data.hasPrefix("/") { return data + "/thermos/dsl-venv" }
        let home = environment("HOME") ?? homeFromPasswd() ?? "/root"
        return home + "/.local/share/thermos/dsl-venv"
    }

    /// The interpreter to run the loader with.
    static func interpreter() -> String {
        if let chosen = environment("THERMOS_PYTHON"), !chosen.isEmpty { return chosen }
        let venvPython = venvDirectory + "/bin/python3"
        if access(venvPython, X_OK) == 0 { return venvPython }
        return "python3"
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    private static func homeFromPasswd() -> String? {
        guard let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }
}

/// The outcome of a child process run by `spawnAndWait`.
struct SpawnOutcome {
    /// Exit status, or 128 + signal.
    var status: Int32
    /// Its stdout when captured.
    var output: [UInt8]
}

/// Runs `arguments` (`arguments[0]` searched in `PATH` unless it holds a `/`) with stdin on
/// /dev/null, stderr inherited and stdout captured (or inherited), and waits for it. Uses
/// `SpawnRequest` (`posix_spawnp`, clean signal state, no other fds), never `fork`.
func spawnAndWait(_ arguments: [String], captureOutput: Bool) -> Result<SpawnOutcome, SpawnFailure> {
    var pipe: [Int32] = [-1, -1]
    if captureOutput, cthermos_pipe2(&pipe, O_CLOEXEC) != 0 {
        return .failure(SpawnFailure(errno: errno, program: arguments[0]))
    }
    var request = SpawnRequest(executable: arguments[0], arguments: arguments)
    request.searchPath = true
    request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 1: .inherit(captureOutput ? pipe[1] : 1), 2: .inherit(2)]
    let pid: Int32
    do {
        pid = try request.spawn()
    } catch {
        if captureOutput {
            close(pipe[0])
            close(pipe[1])
        }
        return .failure(SpawnFailure(errno: error.errnoValue ?? EINVAL, program: arguments[0]))
    }
    if captureOutput { close(pipe[1]) }
    var output: [UInt8] = []
    if captureOutput {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if count > 0 {
                output.append(contentsOf: chunk[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(pipe[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return .success(SpawnOutcome(status: exit, output: output))
}

/// A program that could not be started.
struct SpawnFailure: Error {
    var errno: Int32
    var program: String

    var reason: String { String(cString: strerror(errno)) }
}

/// Renders a `.thermos`/`.aurora` file to task templates through the embedded loader.
enum DSLConfigLoader {
    /// How long a config may take to load before its Python is killed: `$THERMOS_DSL_TIMEOUT`
    /// seconds, by default 60 (python start and pystachio take well under a second; a config
    /// that runs longer is almost surely stuck in a loop).
    static let defaultTimeLimit = 60.0
    static let timeLimitVariable = "THERMOS_DSL_TIMEOUT"

    static func timeLimit() throws(ConfigError) -> Double {
        guard let text = DSLPython.environment(timeLimitVariable), !text.isEmpty else { return defaultTimeLimit }
        guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
            throw ConfigError(.malformed, "\(timeLimitVariable)=\(text): expected a number of seconds above 0")
        }
        return seconds
    }

    static func load(_ request: DSLRequest) throws(ConfigError) -> (templates: [TaskTemplate], job: String?) {
        guard access(request.absoluteFile, R_OK) == 0 else {
            throw ConfigError(.unreadable, "cannot read: \(String(cString: strerror(errno)))", file: request.file)
        }
        let limit = try timeLimit()
        let python = DSLPython.interpreter()
        let arguments = [python, "-B", "-W", "ignore", "-c", DSLLoaderScript.source, request.argument]
        switch BoundedChild.run(arguments, timeLimit: limit) {
        case .failure(let failure):
            throw ConfigError(
                .unreadable,
                "\(request.kind == .aurora ? ".aurora" : ".thermos") configs need Python 3 with pystachio>=0.8.10; cannot start \(python) (\(failure.reason)); install it with: apt-get install python3 python3-venv && \(DSLResponse.setupCommand)",
                file: request.file)
        case .success(.timedOut):
            let shown = limit == limit.rounded() && limit < 1e9 ? String(Int(limit)) : String(limit)
            throw ConfigError(
                .malformed,
                "the config did not finish loading within \(shown) s (an endless loop?); its Python was killed with the processes it started; allow longer with \(timeLimitVariable)=<seconds>",
                file: request.file)
        case .success(.interrupted(let signal)):
            // The loader is gone; die of the signal as if it had reached us directly.
            Glibc.signal(signal, SIG_DFL)
            kill(getpid(), signal)
            Glibc.exit(128 + signal)
        case .success(.exited(let outcome)):
            let text = String(decoding: outcome.output, as: UTF8.self)
            if text.isEmpty && outcome.status != 0 {
                throw ConfigError(
                    .malformed, "the DSL loader failed under \(python) (exit \(outcome.status)); run \(DSLResponse.setupCommand) to repair its Python",
                    file: request.file)
            }
            return try DSLResponse.templates(from: text, request: request, python: python)
        }
    }
}
