import Glibc
public import Logging
import ThermosCoordination
import ThermosPlatform

/// Replacing the calling `thermos` with `thermos-runner` (same pid, so signals, exit status,
/// PID 1 and Slurm's job process stay the user's `thermos run`).
public enum RunnerExec {
    /// `$THERMOS_RUNNER`, else `thermos-runner` beside this executable (like `thermos-coordinator`).
    public static func defaultPath() -> String {
        if let override = getenv("THERMOS_RUNNER"), override.pointee != 0 { return String(cString: override) }
        return Files.directory(of: Files.currentExecutable) + "/thermos-runner"
    }

    /// Hands `configuration`'s task over in a sealed memfd and `exec`s the runner with `invocation`
    /// options; returns only by throwing.
    /// - Throws: `RunnerError` `.invalidTask` when a value cannot travel (a NUL byte) or the
    ///   invocation does not parse back, `.launch` when the runner binary is missing or `exec` fails.
    public static func exec(
        _ configuration: RunnerConfiguration, force: Bool, logLevel: Logger.Level,
        exitCodes: RunnerInvocation.ExitCodes, path: String = defaultPath()
    ) throws(RunnerError) -> Never {
        guard access(path, X_OK) == 0 else {
            throw RunnerError(.launch, "thermos-runner not found at \(path): build it (swift build) or set THERMOS_RUNNER")
        }
        // Checked before the hand-over exists: what does not parse back is the caller's error.
        let probe = RunnerInvocation(configuration: configuration, taskFD: 0, force: force, logLevel: logLevel, exitCodes: exitCodes)
        if let bad = probe.arguments.first(where: { $0.utf8.contains(0) }) {
            throw RunnerError(.invalidTask, "cannot pass \"\(bad)\" to thermos-runner: it holds a NUL byte")
        }
        do {
            _ = try RunnerInvocation(arguments: probe.arguments)
        } catch {
            throw RunnerError(.invalidTask, "invalid runner option: \(error.message)")
        }
        let fd = try TaskHandover.write(configuration.task)
        var invocation = probe
        invocation.taskFD = fd
        let argv = [path] + invocation.arguments
        // Buffered output (e.g. simplerun's "Running command:") must not vanish with this image.
        fflush(nil)
        var pointers: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        pointers.append(nil)
        execv(path, pointers)
        let code = errno
        for pointer in pointers { free(pointer) }
        close(fd)
        throw RunnerError(.launch, "cannot start thermos-runner at \(path): \(String(cString: strerror(code)))", errno: code)
    }
}
