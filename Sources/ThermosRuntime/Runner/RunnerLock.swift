import Glibc
import Logging
import ThermosCheckpoint

/// Leadership of a task: the exclusive `flock` on its runner checkpoint (reference §1.7
/// `open_checkpoint`). A second runner fails cleanly; `force` kills the recorded runner first.
enum RunnerLock {
    static func open(
        _ path: String, policy: SyncPolicy, force: Bool, state: RunnerState, platform: any RunnerPlatform,
        logger: Logger
    ) throws(RunnerError) -> CheckpointWriter {
        do {
            return try CheckpointWriter(path: path, policy: policy, lock: true)
        } catch where error.errno == EWOULDBLOCK {
            guard force else {
                throw RunnerError(
                    .locked,
                    "Found existing runner, cannot take control: \(path) is locked by a live runner"
                        + (state.statuses.last?.runnerPid.map { " (pid \($0))" } ?? "")
                        + ". Use --force to take over, or `thermos kill` to stop it.")
            }
            logger.info("Found existing runner, forcing leadership forfeit.")
            try killRunner(state: state, platform: platform)
            logger.info("Successfully killed leader.")
            do {
                return try CheckpointWriter(path: path, policy: policy, lock: true, waitForLock: true)
            } catch {
                throw RunnerError(.checkpoint, "Could not open locked checkpoint: \(error)")
            }
        } catch {
            throw RunnerError(.checkpoint, "Unable to open checkpoint \(path): \(error)")
        }
    }

    /// SIGKILLs the runner recorded in the last task status (`kill_runner`).
    static func killRunner(state: RunnerState, platform: any RunnerPlatform) throws(RunnerError) {
        guard let pid = state.statuses.last?.runnerPid else {
            throw RunnerError(.locked, "The checkpoint is locked but records no runner pid to kill.")
        }
        guard pid != platform.runnerPid else { throw RunnerError(.internalError, "Unwilling to commit seppuku.") }
        if Glibc.kill(pid, SIGKILL) != 0 && errno == EPERM {
            throw RunnerError(.locked, "Cannot kill the existing runner (pid \(pid)): permission denied")
        }
    }
}
