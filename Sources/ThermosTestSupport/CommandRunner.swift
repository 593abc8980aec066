import CThermosSys
import Glibc
import ThermosPlatform

/// The outcome of a finished command.
public struct CommandResult: Sendable {
    /// Exit status, or 128 + signal number when killed by a signal.
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs commands for tests with `posix_spawn` (never Foundation.Process: its children inherit
/// the blocked signal mask of concurrency threads). The child gets an empty signal mask,
/// default signal dispositions, and only stdin (/dev/null), stdout and stderr (pipes).
public enum CommandRunner {
    /// Runs `arguments[0]` (searched in PATH) with `arguments`, waits, and collects its output.
    /// A command still running after `timeout` seconds is SIGKILLed (a hung test must fail, not
    /// hold CI until its limit) and reported with status 137 and a note on stderr.
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, timeout: Double = 180
    ) -> CommandResult {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard cthermos_pipe2(&outPipe, O_CLOEXEC) == 0, cthermos_pipe2(&errPipe, O_CLOEXEC) == 0 else {
            return CommandResult(status: -1, stdout: "", stderr: "pipe failed: errno \(errno)")
        }
        var environmentStrings: [String]?
        if let environment { environmentStrings = environment.map { "\($0.key)=\($0.value)" } }
        var request = SpawnRequest(executable: arguments[0], arguments: arguments, environment: environmentStrings)
        request.searchPath = true
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 1: .inherit(outPipe[1]), 2: .inherit(errPipe[1])]
        request.directory = directory
        let pid: pid_t
        do {
            pid = try request.spawn()
        } catch {
            close(outPipe[1])
            close(errPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            return CommandResult(status: -1, stdout: "", stderr: "spawn \(arguments[0]) failed: \(error)")
        }
        close(outPipe[1])
        close(errPipe[1])
        var (stdout, stderr, timedOut) = drain(outPipe[0], errPipe[0], deadline: monotonicNow() + timeout)
        if timedOut {
            kill(pid, SIGKILL)
            stderr += "\n[CommandRunner: \(arguments[0]) killed after \(timeout) s]"
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CommandResult(status: exit, stdout: stdout, stderr: stderr)
    }

    /// Reads both pipes to EOF without deadlocking on either.
    private static func drain(_ first: Int32, _ second: Int32, deadline: Double) -> (String, String, Bool) {
        var buffers: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 65536)
        var open = 2
        var timedOut = false
        while open > 0 {
            let remaining = deadline - monotonicNow()
            if remaining <= 0 {
                timedOut = true
                for fd in fds where fd.fd >= 0 { close(fd.fd) }
                break
            }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 3600) * 1000) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffers[index].append(contentsOf: chunk[0..<count])
                } else if count == 0 || errno != EINTR {
                    close(fds[index].fd)
                    fds[index].fd = -1
                    open -= 1
                }
            }
        }
        return (String(decoding: buffers[0], as: UTF8.self), String(decoding: buffers[1], as: UTF8.self), timedOut)
    }
}

/// Seconds on the monotonic clock.
public func monotonicNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
