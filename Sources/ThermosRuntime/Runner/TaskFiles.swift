import Glibc
import ThermosCheckpoint
import ThermosConfig
import ThermosPlatform

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
        do {
            try Files.replaceDurably(active, with: json)
        } catch {
            throw RunnerError(.checkpoint, "\(error)", cause: error)
        }
        try syncDirectory(root + "/tasks/active")
    }

    /// The task recorded in a task file (task JSON, read like the original reads it: unknown
    /// legacy keys dropped, references left as written).
    static func readTask(path: String) throws -> TaskConfig {
        let text = String(decoding: try Files.read(path: path), as: UTF8.self)
        guard let template = try TaskDocument.templates(json: text, path: path).first else {
            throw ConfigError(.malformed, "holds no task", file: path)
        }
        return try template.evaluate(context: nil, allowUnbound: true)
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
        do {
            try Files.rename(active, to: finished)
        } catch {
            throw RunnerError(.checkpoint, "\(error)", cause: error)
        }
        _ = utimes(finished, nil)
        // The move is durable only once both directories are synced.
        try syncDirectory(root + "/tasks/finished")
        try syncDirectory(root + "/tasks/active")
    }

    /// `fsync` of a directory (makes renames and creations in it durable).
    static func syncDirectory(_ path: String) throws(RunnerError) {
        do {
            try Files.syncDirectory(path)
        } catch {
            throw RunnerError(.checkpoint, "\(error)", cause: error)
        }
    }

    /// Moves the task file to `tasks/finished` unless that was done already.
    static func finalizeIfActive(root: String, taskID: String) throws(RunnerError) {
        if exists(TaskPath.taskFile(root: root, taskID: taskID, state: .active)) {
            try finalize(root: root, taskID: taskID)
        }
    }

    static func exists(_ path: String) -> Bool {
        Files.exists(path)
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String) throws(RunnerError) {
        do {
            try Files.makeDirectories(path)
        } catch {
            throw RunnerError(.checkpoint, "\(error)", cause: error)
        }
    }
}
