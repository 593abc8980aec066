import Glibc
import ThermosCheckpoint

/// The note `status` adds to an active task whose runner is gone (nothing drives it; processes
/// it started may still run): how to resume it.
enum RunnerNote {
    static let notRunning = "runner not running — `thermos run` the same task id to resume"

    /// Whether a live runner holds the task's checkpoint lock (a shared `flock` probe that is
    /// released at once); nil when the checkpoint cannot be opened.
    static func isRunnerRunning(root: String, taskID: String) -> Bool? {
        let fd = open(TaskPath.runnerCheckpoint(root: root, taskID: taskID), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK ? true : nil
    }
}
