import CThermosSys
import Glibc

/// A command started in its own session with `posix_spawn` and left running, for tests that
/// need live processes (resource sampling). `stop()` kills the whole session's process group.
public struct BackgroundProcess: Sendable {
    public let pid: Int32

    /// Starts `arguments` (searched in PATH) with stdio on /dev/null, an empty signal mask,
    /// default dispositions and a new session.
    public init?(_ arguments: [String]) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        cthermos_spawnattr_clean_signals(&attributes, nil, 0, cthermos_POSIX_SPAWN_SETSID)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ) == 0 else { return nil }
        self.pid = pid
    }

    /// SIGKILLs the process group (the session leader's group) and reaps the leader.
    public func stop() {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
