import Glibc
import ThermosPlatform

/// A command started in the background for a test (e.g. a runner to be signalled or killed):
/// stdout and stderr go to files, the child gets a clean signal state.
public final class BackgroundCommand: @unchecked Sendable {
    // Unchecked: `pid` is immutable and `exitStatus` is only touched by the test that owns the
    // command (tests never share a BackgroundCommand across tasks).
    public let pid: Int32
    public let stdoutPath: String
    public let stderrPath: String
    private var exitStatus: Int32?

    /// Starts `arguments` (argv[0] searched in PATH) with `environment` added to ours.
    public init(_ arguments: [String], environment extra: [String: String] = [:], outputPrefix: String) {
        stdoutPath = outputPrefix + ".stdout"
        stderrPath = outputPrefix + ".stderr"
        var environment: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        environment.merge(extra) { $1 }
        var request = SpawnRequest(executable: arguments[0], arguments: arguments, environment: environment.map { "\($0.key)=\($0.value)" })
        request.searchPath = true
        request.descriptors = [
            0: .open("/dev/null", flags: O_RDONLY),
            1: .open(stdoutPath, flags: O_WRONLY | O_CREAT | O_TRUNC), 2: .open(stderrPath, flags: O_WRONLY | O_CREAT | O_TRUNC),
        ]
        let child: pid_t
        do {
            child = try request.spawn()
        } catch {
            preconditionFailure("cannot start \(arguments[0]): \(error)")
        }
        pid = child
    }

    /// Sends `signal` to the command.
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the command; returns its exit status, or 128 + signal.
    /// A command still running after `timeout` seconds is SIGKILLed (so a hung runner fails the
    /// test instead of hanging it).
    @discardableResult
    public func wait(timeout: Double = 180) -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let deadline = monotonicNow() + timeout
        while waitpid(pid, &status, WNOHANG) == 0 {
            if monotonicNow() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            usleep(10_000)
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    public var stdout: String { String(decoding: readBytes(stdoutPath) ?? [], as: UTF8.self) }
    public var stderr: String { String(decoding: readBytes(stderrPath) ?? [], as: UTF8.self) }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass (test helper).
public func eventually(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
    var waited = 0.0
    while waited < timeout {
        if condition() { return true }
        usleep(20_000)
        waited += 0.02
    }
    return condition()
}
