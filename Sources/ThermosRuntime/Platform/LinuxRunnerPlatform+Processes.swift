import Glibc
import ThermosPlatform
public import ThermosCheckpoint

// Scanning and signalling the processes of a run (reference §1.7 `scan_process`,
// `kill_process`, `terminate_orphans`), validated against the checkpoint.
extension LinuxRunnerPlatform {
    public func scan(_ run: ProcessStatus, owner: ProcessOwner) -> ProcessScan {
        var scan = ProcessScan()
        if let pid = run.coordinatorPid, let forkTime = run.forkTime, validated(pid, owner: owner, recordedTime: forkTime) != nil {
            scan.coordinatorPid = pid
        }
        if let pid = run.pid, let startTime = run.startTime, validated(pid, owner: owner, recordedTime: startTime) != nil {
            scan.pid = pid
            scan.tree = ProcessTable.descendants(of: pid, in: ProcessTable.snapshot())
        }
        return scan
    }

    public func terminate(_ run: ProcessStatus, owner: ProcessOwner) {
        let scan = scan(run, owner: owner)
        if let coordinator = scan.coordinatorPid {
            Glibc.kill(-coordinator, SIGTERM)
        } else if let pid = scan.pid {
            Glibc.kill(pid, SIGTERM)
        }
    }

    @discardableResult
    public func kill(_ run: ProcessStatus, owner: ProcessOwner) -> ProcessScan {
        let scan = scan(run, owner: owner)
        var groups = Set<Int32>()
        if let coordinator = scan.coordinatorPid { groups.insert(coordinator) }
        // The coordinator may be gone while its group lives on: the group id is the recorded
        // coordinator pid, and the validated command still belongs to it.
        if let pid = scan.pid, let entry = ProcessTable.entry(pid), entry.processGroup == run.coordinatorPid {
            groups.insert(entry.processGroup)
        }
        for group in groups where group > 1 { Glibc.kill(-group, SIGKILL) }
        for pid in [scan.coordinatorPid, scan.pid].compactMap({ $0 }) + scan.tree.sorted() where pid > 1 {
            Glibc.kill(pid, SIGKILL)
        }
        return scan
    }

    public func signalOrphans(_ signal: Int32, sparing coordinators: Set<Int32>) {
        var live = coordinators.union(pidfds.values)
        // The fork server is ours, not the task's (it is stopped with the platform).
        if let server = forkServer { live.insert(server.pid) }
        // Our children (adopted orphans included: we are a child subreaper) from our own
        // /proc/self/task/*/children, not a scan of every process on the machine.
        let children = ProcessTable.children(of: runnerPid)
            ?? Set(ProcessTable.snapshot().values.filter { $0.parentPid == runnerPid }.map(\.pid))
        for pid in children where !live.contains(pid) && pid > 1 {
            Glibc.kill(pid, signal)
        }
    }

    /// The live entry of `pid` when it is the process the checkpoint recorded at `recordedTime`.
    func validated(_ pid: Int32, owner: ProcessOwner, recordedTime: Double) -> ProcessEntry? {
        guard let entry = ProcessTable.entry(pid) else { return nil }
        // The user name only matters for legacy headers without a uid (a passwd lookup each time).
        let user = owner.uid != nil ? nil : entry.uid.flatMap { uid -> String? in
            guard let record = getpwuid(uid_t(bitPattern: uid)) else { return nil }
            return String(cString: record.pointee.pw_name)
        }
        guard ProcessValidation.isOurs(
            processUid: entry.uid, processUser: user, processStart: entry.startTime, owner: owner, recordedTime: recordedTime)
        else { return nil }
        return entry
    }
}

// Probes run in the event loop (`LinuxProbeRunner`).
extension LinuxRunnerPlatform {
    public func startProbe(_ request: ProbeRequest) -> (passed: Bool, detail: String)? {
        probeRunner.start(request)
    }

    public func cancelProbe(_ attempt: ProbeAttempt) {
        probeRunner.cancel(attempt)
    }
}
