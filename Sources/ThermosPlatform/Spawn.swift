public import CThermosSys
import Glibc

/// How to start one child process with `posix_spawn` (the one spawn builder): what it gets as
/// which fd, which signals start blocked (every other signal has its default action and an
/// empty mask, whatever thread spawns), a new session or not, the working directory, and every
/// other fd closed. Never `fork()` in a multi-threaded process; never `Foundation.Process`.
public struct SpawnRequest: Sendable {
    /// One descriptor of the child.
    public enum ChildDescriptor: Sendable, Hashable {
        /// A copy of this descriptor of ours.
        case inherit(Int32)
        /// This file, opened with these flags (e.g. `/dev/null`, `O_RDONLY`).
        case open(String, flags: Int32, mode: UInt32 = 0o644)
    }

    /// The program; with `searchPath`, a name looked up in `PATH`.
    public var executable: String
    /// The whole argv, `argv[0]` included.
    public var arguments: [String]
    /// `KEY=value` entries; nil: our own environment.
    public var environment: [String]?
    /// The child's descriptors by number; those above the highest one named are closed
    /// (`closefrom`), those below it that are not named are inherited unless close-on-exec.
    public var descriptors: [Int32: ChildDescriptor] = [:]
    /// Signals blocked in the child (the rest unblocked, all back to default actions).
    public var blockedSignals: [Int32] = []
    /// Start a new session (`setsid`): the child leads its own session and process group.
    public var newSession = false
    /// Start in a process group of its own (pgid = its pid) inside our session, so the group
    /// can be signalled as one while the child keeps our terminal; ignored with `newSession`.
    public var newProcessGroup = false
    /// The child's working directory; nil: ours.
    public var directory: String?
    public var searchPath = false

    public init(executable: String, arguments: [String]? = nil, environment: [String]? = nil) {
        self.executable = executable
        self.arguments = arguments ?? [executable]
        self.environment = environment
    }

    /// Starts the child.
    /// - Returns: its pid.
    /// - Throws: `PlatformError` for a failed setup step or `posix_spawn` (e.g. ENOENT).
    public func spawn() throws(PlatformError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        try checkedSpawn(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init")
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        try checkedSpawn(posix_spawnattr_init(&attributes), "posix_spawnattr_init")
        defer { posix_spawnattr_destroy(&attributes) }

        // Sources are first copied above every target, so a dup2 onto fd n cannot clobber a
        // source that happens to be fd n (the copies are close-on-exec and closed after).
        let highest = (descriptors.keys.max() ?? 2) + 1
        var copies: [Int32] = []
        defer { for fd in copies { close(fd) } }
        for (target, source) in descriptors.sorted(by: { $0.key < $1.key }) {
            switch source {
            case .inherit(let fd):
                let copy = fcntl(fd, F_DUPFD_CLOEXEC, highest)
                guard copy >= 0 else { throw .system("duplicate descriptor \(fd) for the child") }
                copies.append(copy)
                try checkedSpawn(posix_spawn_file_actions_adddup2(&actions, copy, target), "posix_spawn_file_actions_adddup2")
            case .open(let path, let flags, let mode):
                try checkedSpawn(posix_spawn_file_actions_addopen(&actions, target, path, flags, mode), "posix_spawn_file_actions_addopen", path: path)
            }
        }
        if let directory {
            try checkedSpawn(cthermos_spawn_addchdir(&actions, directory), "posix_spawn_file_actions_addchdir_np", path: directory)
        }
        try checkedSpawn(cthermos_spawn_addclosefrom(&actions, highest), "posix_spawn_file_actions_addclosefrom_np")
        var flags = newSession ? cthermos_POSIX_SPAWN_SETSID : 0
        if newProcessGroup && !newSession {
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
            try checkedSpawn(posix_spawnattr_setpgroup(&attributes, 0), "posix_spawnattr_setpgroup")
        }
        try checkedSpawn(
            blockedSignals.withUnsafeBufferPointer {
                cthermos_spawnattr_clean_signals(&attributes, $0.isEmpty ? nil : $0.baseAddress, Int32($0.count), flags)
            }, "set the child's signal state")

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result: Int32
        if let environment {
            let envp = environment.map { strdup($0) } + [nil]
            defer { envp.forEach { free($0) } }
            result = searchPath
                ? posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
                : posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        } else {
            result = searchPath
                ? posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
                : posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        guard result == 0 else { throw .system("start", path: executable, errno: result) }
        return pid
    }

    private func checkedSpawn(_ result: Int32, _ operation: String, path: String? = nil) throws(PlatformError) {
        guard result == 0 else { throw .system(operation, path: path, errno: result) }
    }
}
