import OrderedCollections
public import ThermosCheckpoint
public import ThermosControl

/// One effect the runner shell performs for `RunnerCore`, in the order the core returns them.
/// The core has already applied every record it asks to append: the shell only makes it durable.
public enum RunnerAction: Sendable, Hashable {
    /// Write this record to the runner stream (the core's state already includes it).
    case append(RunnerCkpt)
    /// Start the coordinator of the WAITING run of a process; report a failure with
    /// `RunnerObservation.launchFailed`.
    case launch(CoordinatorLaunch)
    /// SIGTERM the run's process group (CLEANING): its coordinator survives and records the end.
    case terminate(ProcessStatus)
    /// SIGKILL everything of the run: process group, coordinator, command and descendants.
    case kill(ProcessStatus)
    /// Send `signal` to every child of the runner that is not one of these live coordinators.
    case signalOrphans(RunnerSignal, sparing: Set<Int32>)
    /// Scan the last run of every process and answer with `RunnerObservation.scanned(purpose, …)`.
    case scanRuns(ScanPurpose)
    /// Start reading a process's coordinator stream: records with `seq > watermark`.
    case watchStream(process: String, watermark: Int64)
    /// Stop reading a process's coordinator stream (its run ended).
    case unwatchStream(process: String)
    /// Watch a coordinator recorded FORKED for its exit; report an exit (or a pid that is not
    /// the recorded coordinator) with `RunnerObservation.coordinatorExited`.
    case watchCoordinator(process: String, pid: Int32, forkTime: Double)
    /// Write `tasks/active/<id>` (the task's JSON) unless it exists.
    case initializeTaskFile
    /// Move `tasks/active/<id>` to `tasks/finished/<id>`.
    case finalizeTaskFile
    /// Make everything written so far durable now (before a terminal state takes effect).
    case sync
    /// The fault tests' crash injection point (`THERMOS_CRASH_AT=<point>:<process>`).
    case crashPoint(CrashPoint, process: String)
    /// A line for the runner's log.
    case log(String)
    /// Answer a control-socket client (and close its connection).
    case reply(client: Int32, ControlResponse)
    /// Run one probe attempt; report its end with `RunnerObservation.probeFinished`.
    case startProbe(ProbeRequest)
    /// Stop a probe attempt (timed out, or its run ended): kill its process group or close its socket.
    case cancelProbe(ProbeAttempt)
    /// Rewrite the published probe results (`checkpoints/<id>/probes.json`).
    case publishProbes(ProbeReport)
}

/// The two signals the runner sends on its own decisions.
public enum RunnerSignal: Sendable, Hashable {
    /// SIGTERM.
    case terminate
    /// SIGKILL.
    case kill
}

/// Why the core asks for a scan of every process's last run.
public enum ScanPurpose: Sendable, Hashable {
    /// CLEANING: is anything still alive?
    case liveness
    /// FINALIZING or a terminal state was recorded: conclude what is left (KILLED/LOST); with
    /// `finishing`, then sync, finalize the task file and SIGKILL adopted orphans.
    case conclude(finishing: Bool)
}

/// Where the fault tests may kill the runner (`THERMOS_CRASH_AT=<point>:<process>`).
public enum CrashPoint: String, Sendable, Hashable {
    /// WAITING recorded, nothing started.
    case afterWaiting = "after-waiting"
    /// Coordinator started, no FORKED yet (reached inside the platform's launch).
    case afterSpawn = "after-spawn"
    /// FORKED recorded, coordinator not released (inside the platform's launch).
    case afterForked = "after-forked"
    /// The run's end muxed, successor not started.
    case afterEnd = "after-end"
    /// The terminal task state recorded, its sweep not done (`after-terminal:<state>`).
    case afterTerminal = "after-terminal"
}

/// What the shell tells the core about the outside world.
public enum RunnerObservation: Sendable, Hashable {
    /// A watched coordinator exited, or a recorded coordinator pid is not (or no longer) ours.
    /// Deliver it only after the streams were read: a coordinator writes its end before exiting.
    case coordinatorExited(pid: Int32)
    /// SIGINT, SIGTERM or SIGUSR1: a staged kill.
    case killRequested
    /// SIGUSR2: lose the task.
    case loseRequested
    /// `RunnerAction.launch` of `process` failed.
    case launchFailed(process: String, reason: String)
    /// The answer to `RunnerAction.scanRuns`: what is alive of each process's last run, taken
    /// before the streams were read a last time (so a run found dead has its end folded in).
    case scanned(ScanPurpose, [String: ProcessScan])
    /// A request read from the control socket; answer it with `RunnerAction.reply(client:…)`.
    case controlRequested(ControlRequest, client: Int32)
    /// A probe attempt ended (exit 0, 2xx, connected = passed); `detail` says what was seen.
    case probeFinished(ProbeAttempt, passed: Bool, detail: String)
}
