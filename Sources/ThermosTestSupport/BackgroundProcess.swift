import Glibc
import ThermosPlatform

/// A command started in its own session with `posix_spawn` and left running, for tests that
/// need live processes (resource sampling). `stop()` kills the whole session's process group.
public struct BackgroundProcess: Sendable {
    public let pid: Int32

    /// Starts `arguments` (searched in PATH) with stdio on /dev/null, an empty signal mask,
    /// default dispositions and a new session.
    public init?(_ arguments: [String]) {
        var request = SpawnRequest(executable: arguments[0], arguments: arguments)
        request.searchPath = true
        request.descriptors = [
            0: .open("/dev/null", flags: O_RDONLY), 1: .open("/dev/null", flags: O_WRONLY), 2: .open("/dev/null", flags: O_WRONLY),
        ]
        request.newSession = true
        guard let pid = try? request.spawn() else { return nil }
        self.pid = pid
    }

    /// SIGKILLs the process group (the session leader's group) and reaps the leader.
    public func stop() {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
