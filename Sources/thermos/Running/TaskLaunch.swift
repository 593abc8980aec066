import ArgumentParser
import Glibc
import Logging
import ThermosCheckpoint
import ThermosConfig
import ThermosPlanner
import ThermosPlatform
import ThermosRuntime

/// Exit statuses of `thermos run` and `thermos simplerun` (DESIGN §2.2).
enum RunExit {
    static let invalidInput: Int32 = 2
    /// The runner could not take control or keep going (lock held, unreadable checkpoint).
    /// The task's own statuses are `thermos-runner`'s (`RunnerInvocation.ExitCodes.run`).
    static let runnerError: Int32 = 5
}

/// The user processes run as: `--user`, else the current user; another user needs root.
struct RunAccount {
    var name: String
    var uid: Int32

    static func resolve(_ requested: String?) throws(RunnerError) -> RunAccount {
        let current = userName(uid: getuid())
        let name = requested ?? current
        guard let entry = getpwnam(name) else {
            throw RunnerError(.unknownUser, "Unknown user \(name): no passwd entry (check --user/--setuid)")
        }
        let uid = Int32(bitPattern: entry.pointee.pw_uid)
        if uid_t(bitPattern: uid) != getuid() && geteuid() != 0 {
            throw RunnerError(
                .permission, "task specifies user as \(name), but \(current) does not have setuid permission! (run as root or drop --user)")
        }
        return RunAccount(name: name, uid: uid)
    }
}

/// Parses `name:port` bindings (`-P`/`--port`) for `run` and `simplerun` (invalid input, exit 2).
func parsePorts(_ specs: [String]) throws(ExitCode) -> [String: Int] {
    do {
        return try TaskLaunch.parsePorts(specs)
    } catch {
        throw fail("Error: -P/--port: \(error.message)", code: RunExit.invalidInput)
    }
}

/// The machine's host name.
func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count)
    return String(cString: buffer)
}

/// Seconds since the epoch.
func wallClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Makes a directory path absolute against the current directory.
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    let base = String(cString: buffer)
    return base == "/" ? "/" + path : base + "/" + path
}

/// Starts this binary again, detached in its own session with stdio on /dev/null (`--daemon`).
func daemonize(_ arguments: [String]) throws(RunnerError) {
    let executable = Files.currentExecutable
    var request = SpawnRequest(executable: executable, arguments: [executable] + arguments)
    request.descriptors = [
        0: .open("/dev/null", flags: O_RDONLY), 1: .open("/dev/null", flags: O_WRONLY), 2: .open("/dev/null", flags: O_WRONLY),
    ]
    request.newSession = true
    do {
        _ = try request.spawn()
    } catch {
        throw RunnerError(.launch, "cannot daemonize: \(error)", cause: error)
    }
}
