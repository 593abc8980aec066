import Glibc
import OrderedCollections
public import Logging
public import ThermosCheckpoint

/// Kills a task from outside its runner, through its checkpoint alone (the original's
/// `TaskRunnerHelper.kill`, reference §1.7 and §3.6): SIGKILL the recorded runner, SIGKILL every
/// process tree, record `ACTIVE` (this pid), `KILLED(rc -9)` or `LOST` per unfinished process and
/// the terminal state, then move the task to `tasks/finished`.
public enum TaskKiller {
    /// - Returns: the task's terminal state.
    @discardableResult
    public static func kill(
        taskID: String, root: String, platform: any RunnerPlatform, terminal: TaskState = .killed,
        logger: Logger = Logger(label: "kill")
    ) throws(RunnerError) -> TaskState {
        let path = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        var state = RunnerState()
        if TaskFiles.exists(path) {
            do {
                state = try RunnerState.replaying(path: path).state
            } catch {
                throw RunnerError(.checkpoint, "Failed to recover from \(path): \(error)")
            }
        }
        guard !state.statuses.isEmpty else {
            logger.info("Task has uninitialized TaskState - forcibly finalizing")
            try TaskFiles.finalizeIfActive(root: root, taskID: taskID)
            return terminal
        }
        let writer = try RunnerLock.open(path, policy: .always, force: true, state: state, platform: platform, logger: logger)
        defer { try? writer.close() }
        // The runner may have died before muxing what its coordinators recorded: fold that in first.
        let dispatcher = CheckpointDispatcher()
        func record(_ ckpt: RunnerCkpt) throws(RunnerError) {
            do {
                try dispatcher.dispatch(&state, ckpt)
                try writer.append(ckpt)
            } catch {
                throw RunnerError(.checkpoint, "\(path): cannot record \(ckpt): \(error)")
            }
        }
        for name in state.processes.keys {
            guard let last = state.processes[name]?.last, !(last.state?.isTerminal ?? true) else { continue }
            var tailer = CheckpointTailer(path: TaskPath.processCheckpoint(root: root, taskID: taskID, process: name))
            for case .processStatus(let update) in (try? tailer.poll()) ?? []
            where CheckpointDispatcher.wouldUpdate(state, .processStatus(update)) {
                try? record(.processStatus(update))
            }
        }
        if let current = state.taskState, current.isTerminal {
            try TaskFiles.finalizeIfActive(root: root, taskID: taskID)
            return current
        }
        let owner = ProcessOwner(uid: state.header?.uid, user: state.header?.user)
        func taskStatus(_ taskState: TaskState) -> RunnerCkpt {
            .taskStatus(TaskStatus(
                state: taskState, timestampMs: Int64((platform.now() * 1000).rounded(.down)),
                runnerPid: platform.runnerPid, runnerUid: platform.runnerUid))
        }
        try record(taskStatus(.active))
        // SIGKILL first (a helper cannot stage anything), then conclude by the one kill policy.
        var scans: [String: ProcessScan] = [:]
        for (name, runs) in state.processes {
            if let last = runs.last { scans[name] = platform.kill(last, owner: owner) }
        }
        for verdict in KillPolicy.verdicts(state, scans: scans) {
            guard let seq = verdict.run.seq else { continue }
            switch verdict.kind {
            case .leftovers:
                continue
            case .killed:
                try record(.processStatus(ProcessStatus(
                    seq: seq + 1, process: verdict.process, state: .killed, stopTime: platform.now(),
                    returnCode: KillPolicy.helperKillReturnCode)))
            case .lost:
                try record(.processStatus(ProcessStatus(seq: seq + 1, process: verdict.process, state: .lost)))
            }
        }
        try record(taskStatus(terminal))
        try TaskFiles.finalizeIfActive(root: root, taskID: taskID)
        return terminal
    }

    /// The pid of a live runner holding `taskID`'s checkpoint lock, or nil.
    public static func liveRunner(taskID: String, root: String) -> Int32? {
        let path = TaskPath.runnerCheckpoint(root: root, taskID: taskID)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return (try? RunnerState.replaying(path: path).state)?.statuses.last?.runnerPid
    }
}
