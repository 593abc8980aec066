import Glibc
public import ThermosCheckpoint

/// Sends a control request to the runner of one task of one root, with the errors a user can
/// act on (the CLI's `thermos restart|stop|start`, `thermos kill`, the observer's buttons).
public enum TaskControl {
    /// Why a request did not take effect: the message names the task and the fix.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Code: Sendable, Hashable {
            /// No such task in the root.
            case unknownTask
            /// The task is finished.
            case finished
            /// The task is active but no runner listens.
            case runnerNotRunning
            /// Not the task's owner or root.
            case permissionDenied
            /// The runner refused the request (unknown process, wrong state…).
            case refused(ControlResponse.Code)
            /// No answer in time, or a broken answer.
            case unreachable
        }

        public var code: Code
        public var message: String

        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { message }
    }

    /// Where the task is: `.active`, `.finished`, or nil when the root has no such task.
    public static func location(root: String, taskID: String) -> TaskPath.TaskDirectory? {
        for state in [TaskPath.TaskDirectory.active, .finished] where access(TaskPath.taskFile(root: root, taskID: taskID, state: state), F_OK) == 0 {
            return state
        }
        return nil
    }

    /// Sends `request` to `taskID`'s runner and returns its confirmation.
    public static func send(_ request: ControlRequest, root: String, taskID: String, timeout: Double = 10) throws(Failure) -> String {
        let activeFile = TaskPath.taskFile(root: root, taskID: taskID, state: .active)
        if access(activeFile, F_OK) != 0 && errno == EACCES {
            throw Failure(.permissionDenied, "permission denied: cannot reach \(activeFile); only the owner of task \(taskID) and root may control it")
        }
        switch location(root: root, taskID: taskID) {
        case nil:
            throw Failure(.unknownTask, "no task \(taskID) in \(root) (see `thermos status --root \(root)`)")
        case .finished:
            throw Failure(.finished, "task \(taskID) has finished; there is nothing to control")
        case .active:
            break
        }
        let path = ControlClient.socketPath(root: root, taskID: taskID)
        let response: ControlResponse
        do {
            response = try ControlClient.send(request, socketPath: path, timeout: timeout)
        } catch {
            switch error.code {
            case .runnerNotRunning:
                throw Failure(
                    .runnerNotRunning,
                    "the runner of task \(taskID) is not running — `thermos run` the same task id to resume it, then retry")
            case .permissionDenied:
                throw Failure(.permissionDenied, "permission denied: only the owner of task \(taskID) and root may control it (\(path))")
            case .timeout, .protocolError, .io:
                throw Failure(.unreachable, "task \(taskID): \(error.message)")
            }
        }
        switch response {
        case .ok(let message):
            return message
        case .error(.permissionDenied, let message):
            throw Failure(.permissionDenied, "permission denied: \(message)")
        case .error(let code, let message):
            throw Failure(.refused(code), "task \(taskID): \(message)")
        }
    }
}
