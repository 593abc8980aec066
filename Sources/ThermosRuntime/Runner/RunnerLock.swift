import Glibc
import Logging
import ThermosCheckpoint
import ThermosPlatform

/// Leadership of a task: the exclusive `flock` on its runner checkpoint (reference §1.7
/// `open_checkpoint`). A second runner fails cleanly; `force` kills the recorded runner first.
///
/// The lock belongs to an open file description, so a child the runner is spawning holds a copy
/// of it between `clone` and its first file action (`closefrom`) — an instant, unless the machine
/// is loaded and the runner is SIGKILLed inside `posix_spawn`: then the half-born child keeps the
/// lock for milliseconds after the runner is gone. A contender whose recorded holder is dead
/// therefore waits briefly (`deadHolderWait`) instead of refusing a re-run because of a corpse.
enum RunnerLock {
    /// How long a contender waits for a lock whose recorded holder is dead.
    static let deadHolderWait = 3.0

    static func open(
        _ path: String, policy: SyncPolicy, force: Bool, state: RunnerState, platform: any RunnerPlatform,
        logger: Logger
    ) throws(RunnerError) -> CheckpointWriter {
        do {
            return try CheckpointWriter(path: path, policy: policy, lock: true)
        } catch where error.errno == EWOULDBLOCK {
            let holder = state.statuses.last
            if !isAlive(holder) {
                if let writer = try waitForDeadHolder(path, policy: policy, holder: holder?.runnerPid, logger: logger) {
                    return writer
                }
            }
            guard force else {
                throw RunnerError(
                    .locked,
                    "Found existing runner, cannot take control: \(path) is locked by a live runner"
                        + (holder?.runnerPid.map { " (pid \($0))" } ?? "")
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
            throw RunnerError(.checkpoint, "Unable to open checkpoint \(path): \(error)", errno: error.errno)
        }
    }

    /// Whether the runner recorded in `status` still exists (not a zombie, and not a newer
    /// process that reused its pid: it must have started before it wrote the record).
    static func isAlive(_ status: TaskStatus?) -> Bool {
        guard let pid = status?.runnerPid, let entry = ProcessTable.entry(pid) else { return false }
        guard let written = status?.timestampMs else { return true }
        return entry.startTime <= Double(written) / 1000 + 1
    }

    /// The lock is held although its recorded holder is dead: by a child of that holder that has
    /// not yet closed its inherited copy. That child closes it (or dies) within milliseconds;
    /// retry with a short backoff for at most `deadHolderWait`. Nil if it is still held then.
    private static func waitForDeadHolder(
        _ path: String, policy: SyncPolicy, holder: Int32?, logger: Logger
    ) throws(RunnerError) -> CheckpointWriter? {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let limit = Double(deadline.tv_sec) + Double(deadline.tv_nsec) / 1e9 + deadHolderWait
        var pause: UInt32 = 1000
        while true {
            usleep(pause)
            pause = min(pause * 2, 50_000)
            do {
                let writer = try CheckpointWriter(path: path, policy: policy, lock: true)
                logger.info("Took over \(path): its runner\(holder.map { " (pid \($0))" } ?? "") was dead, a child of it released the lock.")
                return writer
            } catch where error.errno == EWOULDBLOCK {
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                if Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 >= limit { return nil }
            } catch {
                throw RunnerError(.checkpoint, "Unable to open checkpoint \(path): \(error)", errno: error.errno)
            }
        }
    }

    /// SIGKILLs the runner recorded in the last task status (`kill_runner`).
    static func killRunner(state: RunnerState, platform: any RunnerPlatform) throws(RunnerError) {
        guard let pid = state.statuses.last?.runnerPid else {
            throw RunnerError(.locked, "The checkpoint is locked but records no runner pid to kill.")
        }
        guard pid != platform.runnerPid else { throw RunnerError(.internalError, "Unwilling to commit seppuku.") }
        try platform.killRunner(pid: pid)
    }
}
