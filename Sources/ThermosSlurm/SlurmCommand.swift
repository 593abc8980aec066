import CThermosSys
import Glibc
import ThermosPlatform

/// The output of a finished Slurm command.
public struct SlurmCommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs Slurm's client commands (`sbatch`, `squeue`, `scancel`, `scontrol`), found on PATH,
/// through the one spawn builder (`SpawnRequest`: empty signal mask, default dispositions, no
/// other fds), stdin on /dev/null.
public enum SlurmCommand {
    /// Runs `arguments` and collects both outputs; a command missing from PATH is an error
    /// naming it and Debian's package.
    public static func run(_ arguments: [String]) throws(SlurmError) -> SlurmCommandResult {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard cthermos_pipe2(&outPipe, O_CLOEXEC) == 0, cthermos_pipe2(&errPipe, O_CLOEXEC) == 0 else {
            throw SlurmError(.command, "cannot run \(arguments[0]): pipe: \(String(cString: strerror(errno)))")
        }
        var request = SpawnRequest(executable: arguments[0], arguments: arguments)
        request.searchPath = true
        request.descriptors = [0: .open("/dev/null", flags: O_RDONLY), 1: .inherit(outPipe[1]), 2: .inherit(errPipe[1])]
        let pid: Int32
        do {
            pid = try request.spawn()
        } catch {
            for fd in outPipe + errPipe { close(fd) }
            throw SlurmError(
                .command,
                "cannot run \(arguments[0]): \(String(cString: strerror(error.errnoValue ?? EINVAL))) (install Slurm's client commands: apt-get install slurm-client, and set SLURM_CONF)")
        }
        close(outPipe[1])
        close(errPipe[1])
        let (stdout, stderr) = drain(outPipe[0], errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return SlurmCommandResult(status: cthermos_wait_return_code(status), stdout: stdout, stderr: stderr)
    }

    /// Runs `arguments` and returns stdout; a non-zero exit is an error quoting stderr.
    public static func output(_ arguments: [String]) throws(SlurmError) -> String {
        let result = try run(arguments)
        guard result.status == 0 else {
            let detail = result.stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit \(result.status)"
            throw SlurmError(.command, "\(arguments[0]) failed: \(detail)")
        }
        return result.stdout
    }

    /// Reads both pipes to EOF without deadlocking on either.
    private static func drain(_ first: Int32, _ second: Int32) -> (String, String) {
        var buffers: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 65536)
        var open = 2
        while open > 0 {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffers[index] += chunk[0..<count]
                } else if count == 0 || errno != EINTR {
                    close(fds[index].fd)
                    fds[index].fd = -1
                    open -= 1
                }
            }
        }
        return (String(decoding: buffers[0], as: UTF8.self), String(decoding: buffers[1], as: UTF8.self))
    }
}
