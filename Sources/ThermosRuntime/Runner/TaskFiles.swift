import Glibc
import ThermosCheckpoint

/// The task metadata files `tasks/active/<id>` and `tasks/finished/<id>` (reference §2.7):
/// written when a task first becomes ACTIVE, renamed when it ends.
public enum TaskFiles {
    /// Writes the task JSON to `tasks/active/<id>` unless it is there already.
    static func initialize(root: String, taskID: String, json: String) throws(RunnerError) {
        let active = TaskPath.taskFile(root: root, taskID: taskID, state: .active)
        let finished = TaskPath.taskFile(root: root, taskID: taskID, state: .finished)
        if exists(active) { return }
        if exists(finished) {
            throw RunnerError(.internalError, "Cannot initialize task with \"finished\" record! (\(finished))")
        }
        try makeDirectories(root + "/tasks/active")
        let temporary = active + ".tmp.\(getpid())"
        try writeFile(temporary, json)
        guard rename(temporary, active) == 0 else {
            throw RunnerError(.checkpoint, "cannot create \(active): \(String(cString: strerror(errno)))", errno: errno)
        }
        try syncDirectory(root + "/tasks/active")
    }

    /// Renames `tasks/active/<id>` to `tasks/finished/<id>`.
    static func finalize(root: String, taskID: String) throws(RunnerError) {
        let active = TaskPath.taskFile(root: root, taskID: taskID, state: .active)
        let finished = TaskPath.taskFile(root: root, taskID: taskID, state: .finished)
        if exists(finished) {
            throw RunnerError(.internalError, "Cannot finalize task with \"finished\" record! (\(finished))")
        }
        guard exists(active) else {
            throw RunnerError(.internalError, "Cannot finalize task with no \"active\" record! (\(active))")
        }
        try makeDirectories(root + "/tasks/finished")
        guard rename(active, finished) == 0 else {
            throw RunnerError(.checkpoint, "cannot move \(active) to \(finished): \(String(cString: strerror(errno)))", errno: errno)
        }
        _ = utimes(finished, nil)
        // The move is durable only once both directories are synced.
        try syncDirectory(root + "/tasks/finished")
        try syncDirectory(root + "/tasks/active")
    }

    /// `fsync` of a directory (makes renames and creations in it durable).
    static func syncDirectory(_ path: String) throws(RunnerError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RunnerError(.checkpoint, "cannot open directory \(path): \(String(cString: strerror(errno)))", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw RunnerError(.checkpoint, "cannot sync directory \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String) throws(RunnerError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RunnerError(.checkpoint, "cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func writeFile(_ path: String, _ text: String) throws(RunnerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunnerError(.checkpoint, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var text = text
        let ok = text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        guard ok, fsync(fd) == 0 else { throw RunnerError(.checkpoint, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}
