/// Everything the batch script of one submitted job array needs (all paths absolute).
public struct BatchScript: Sendable, Equatable {
    /// The task name (the first part of every instance's task id).
    public var name: String
    public var nonce: String
    /// The checkpoint root every instance uses (shared storage for resumption on another node).
    public var root: String
    /// Each instance's sandbox is `<sandboxRoot>/<task id>`.
    public var sandboxRoot: String
    /// The snapshot of the evaluated task written by `thermos submit`.
    public var snapshot: String
    /// The `thermos` binary on the nodes.
    public var thermos: String
    /// Port names bound to a free port of the node (`-P name:0`).
    public var ports: [String]
    /// The staged kill's wait before SIGKILL: the task's `finalization_wait`.
    public var preemptionWait: Int
    /// Extra flags for `thermos run` (e.g. `--fsync always`), passed as they are.
    public var runFlags: [String] = []

    public init(
        name: String, nonce: String, root: String, sandboxRoot: String, snapshot: String, thermos: String,
        ports: [String], preemptionWait: Int, runFlags: [String] = []
    ) {
        self.name = name
        self.nonce = nonce
        self.root = root
        self.sandboxRoot = sandboxRoot
        self.snapshot = snapshot
        self.thermos = thermos
        self.ports = ports
        self.preemptionWait = preemptionWait
        self.runFlags = runFlags
    }

    /// The script text. It `exec`s `thermos run`, so the batch shell's process *is* the runner:
    /// `scancel --batch --signal=TERM` reaches it (a staged kill), and the job's exit code is the
    /// task's (0 SUCCESS → COMPLETED; 1 FAILED, 3 KILLED, 4 LOST → FAILED).
    public func render() -> String {
        let q = SlurmNames.shellQuoted
        var run = [q(thermos), "run", "--root", "\"$root\"", "--sandbox", q(sandboxRoot) + "/\"$task_id\"",
                   "--task-id", "\"$task_id\"", "--preemption-wait", String(preemptionWait),
                   "-E", "mesos.instance=\"$instance\"", "-E", "mesos.hostname=\"$node\""]
        for port in ports { run += ["-P", q(port + ":0")] }
        run += runFlags.map(q)
        run.append("\"$config\"")
        return """
            #!/bin/bash
            # Written by `thermos submit` for task \(name) (nonce \(nonce)): instance $SLURM_ARRAY_TASK_ID
            # of the array runs task \(name).<array job id>.<instance>.\(nonce) with `thermos run`.
            instance="${SLURM_ARRAY_TASK_ID:?this script runs as a task of a Slurm job array}"
            node="${SLURMD_NODENAME:-$(hostname)}"
            task_id=\(q(name))."$SLURM_ARRAY_JOB_ID"."$instance".\(q(nonce))
            root=\(q(root))
            config=\(q(snapshot))
            # A requeued instance resumes from its checkpoint: the task its first run recorded wins
            # (its ports and host were bound then); a finished one exits with its recorded state.
            for state in active finished; do
                if [ -f "$root/tasks/$state/$task_id" ]; then config="$root/tasks/$state/$task_id"; fi
            done
            exec \(run.joined(separator: " "))

            """
    }
}

/// The `sbatch` command line of a submission (the script is its last argument).
public struct SbatchRequest: Sendable, Equatable {
    public var instances: Int
    public var jobName: String
    public var outputDirectory: String
    public var partition: String?
    public var timeLimit: String?
    /// Seconds before the time limit at which the runner gets SIGTERM (`--signal=B:TERM@N`).
    public var signalLead: Int

    public init(instances: Int, jobName: String, outputDirectory: String, partition: String?, timeLimit: String?, signalLead: Int) {
        self.instances = instances
        self.jobName = jobName
        self.outputDirectory = outputDirectory
        self.partition = partition
        self.timeLimit = timeLimit
        self.signalLead = signalLead
    }

    /// The seconds of warning a task needs before its time limit: its finalization budget plus
    /// 15 s for the runner to notice, SIGKILL what is left and record the end.
    public static func signalLead(finalizationWait: Int) -> Int { finalizationWait + 15 }

    /// The KillWait (slurm.conf) a plain `scancel`, a preemption or the time limit must allow
    /// for the staged kill to end before Slurm's SIGKILL.
    public static func requiredKillWait(finalizationWait: Int) -> Int { finalizationWait + 5 }

    public func arguments(script: String) -> [String] {
        var arguments = [
            "sbatch", "--parsable", "--array=0-\(instances - 1)", "--job-name=\(jobName)",
            "--output=\(outputDirectory)/%a.out", "--chdir=\(outputDirectory)", "--requeue",
            "--signal=B:TERM@\(signalLead)",
        ]
        if let partition { arguments.append("--partition=\(partition)") }
        if let timeLimit { arguments.append("--time=\(timeLimit)") }
        arguments.append(script)
        return arguments
    }

    /// The job id in `sbatch --parsable` output (`123` or `123;cluster`).
    public static func parseJobID(_ output: String) -> Int? {
        let line = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        return Int(line.split(separator: ";").first.map(String.init) ?? "")
    }
}
