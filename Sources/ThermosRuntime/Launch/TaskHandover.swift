import CThermosSys
import Glibc
public import ThermosConfig
import ThermosPlatform

/// How the evaluated task travels from `thermos` to `thermos-runner` across `exec`: its task
/// JSON in a memfd that only the runner process holds (inherited, no path anyone else can
/// open or swap), sealed against writes, growth and shrinking before `exec`, so what the runner
/// reads is exactly what `thermos` evaluated. The runner refuses a descriptor that is not such a
/// sealed memfd, reads it from offset 0 and closes it; the durable copy is `tasks/active/<id>`,
/// which the runner writes (synced) before it launches anything.
public enum TaskHandover {
    /// Writes `task`'s JSON into a new sealed memfd that survives `exec`; returns its descriptor.
    public static func write(_ task: TaskConfig) throws(RunnerError) -> Int32 {
        let fd = cthermos_memfd_create_sealable("thermos-task", 1)
        guard fd >= 0 else { throw failure("create the task hand-over (memfd_create)") }
        do {
            try Files.writeAll(fd, task.configValue.jsonText(), path: "memfd:thermos-task")
        } catch {
            close(fd)
            throw RunnerError(.internalError, "cannot write the task hand-over: \(error)", cause: error)
        }
        guard cthermos_memfd_seal(fd) == 0 else {
            let error = failure("seal the task hand-over (F_ADD_SEALS)")
            close(fd)
            throw error
        }
        return fd
    }

    /// Reads, decodes and closes the hand-over at `fd` (the runner's side).
    /// - Throws: `RunnerError` `.internalError` when `fd` is not a sealed memfd or its content
    ///   is not a task (a `thermos` of another version, or a runner started by hand).
    public static func read(fd: Int32) throws(RunnerError) -> TaskConfig {
        defer { close(fd) }
        switch cthermos_memfd_is_sealed(fd) {
        case 1: break
        case 0: throw RunnerError(.internalError, "--task-fd \(fd) is not a sealed task hand-over (thermos-runner is started by thermos run, simplerun or runner)")
        default: throw failure("read the task hand-over --task-fd \(fd) (F_GET_SEALS)")
        }
        let bytes: [UInt8]
        do {
            bytes = try Files.read(descriptor: fd, from: 0, path: "memfd:thermos-task")
        } catch {
            throw RunnerError(.internalError, "cannot read the task hand-over: \(error)", cause: error)
        }
        do {
            return try TaskConfig(configValue: JSONParser.parse(bytes: bytes, file: "task hand-over"))
        } catch {
            throw RunnerError(.internalError, "invalid task hand-over: \(error)", cause: error)
        }
    }

    private static func failure(_ operation: String) -> RunnerError {
        let code = errno
        return RunnerError(.internalError, "cannot \(operation): \(String(cString: strerror(code)))", errno: code)
    }
}
