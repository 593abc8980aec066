import Glibc
import Logging
import ThermosControl

extension TaskRunner {
    /// The task's control socket path (`<root>/checkpoints/<task_id>/control.sock`).
    public var controlSocketPath: String { ControlClient.socketPath(root: configuration.root, taskID: configuration.taskID) }

    /// Listens for `thermos restart|stop|start|kill` once the task's lock is ours. Reachable by
    /// root, the runner's user and the task's owner. A task runs on without one (with a warning).
    func openControlSocket() {
        var allowed: Set<UInt32> = [0, getuid()]
        let owner = configuration.uid.map { UInt32(bitPattern: $0) }
        if let owner { allowed.insert(owner) }
        do {
            try platform.openControlSocket(path: controlSocketPath, allowedUIDs: allowed, ownerUID: owner)
        } catch {
            logger.warning("No control socket (thermos restart/stop/start will not reach this runner): \(error.message)")
        }
    }
}
