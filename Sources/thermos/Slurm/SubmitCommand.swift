import ArgumentParser
import Foundation
import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosSlurm

/// `thermos submit`: one Slurm job array whose instance *i* runs the task with `thermos run`.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a task as a Slurm job array of N instances.",
        discussion: """
            Loads and validates the config like `thermos run`, snapshots the evaluated task under \
            <root>/submissions/, and submits one job array with sbatch (found on PATH; the cluster \
            comes from SLURM_CONF). Instance i runs `thermos run` on its node with {{mesos.instance}} \
            = i, {{mesos.hostname}} = the node, every {{thermos.ports[name]}} bound to a free port \
            of that node, task id <job>.<slurm job id>.<i>.<nonce>, and its sandbox under \
            --sandbox-root. The job exits with the task's code (SUCCESS → COMPLETED, anything else \
            → FAILED); the runner gets SIGTERM finalization_wait + 15 s before --time runs out, and \
            KillWait in slurm.conf should be at least finalization_wait + 5 s. The root should be \
            shared storage: a requeued instance resumes from its checkpoint. Prints the job id.
            """
    )

    @Option(help: "Number of instances (array elements 0..N-1).")
    var instances = 1

    @Option(help: "Slurm partition.")
    var partition: String?

    @Option(help: ArgumentHelp("Slurm time limit (e.g. 10:00).", valueName: "limit"))
    var time: String?

    @Option(help: ArgumentHelp("The job key or name (role/env/name; default: the task's name).", valueName: "key"))
    var job: String?

    @Option(help: "The task to submit when the file holds several.")
    var task: String?

    @Option(name: [.customShort("E"), .customLong("environment")], help: ArgumentHelp("Bind a template variable (repeatable).", valueName: "name=value"))
    var bindings: [String] = []

    @Option(help: ArgumentHelp("The checkpoint root on the nodes (default $THERMOS_ROOT, else /var/run/thermos).", valueName: "dir"))
    var root: String?

    @Option(name: .customLong("sandbox-root"), help: ArgumentHelp("Instance sandboxes go under this directory (default <root>/sandbox).", valueName: "dir"))
    var sandboxRoot: String?

    @Option(name: .customLong("observer-port"), help: "The port of `thermos observer` on the nodes (for `thermos jobs`).")
    var observerPort = 1338

    @Option(name: .customLong("thermos"), help: ArgumentHelp("The thermos binary on the nodes (default: this one).", valueName: "path"))
    var thermosBinary: String?

    @Flag(help: "Print the submission as JSON (job_id, instances, task_ids).")
    var json = false

    @Argument(help: "A task config (.json, .yaml, .yml) or a Python DSL config (.thermos, .aurora).")
    var config: String

    func run() throws {
        guard instances >= 1 else { throw fail("--instances \(instances): a job needs at least one instance", code: 2) }
        let rootPath = absolutePath(root ?? RunnerFlags.defaultRoot())
        let loaded: LoadedTask
        do {
            loaded = try load()
        } catch {
            throw fail(error.description, code: 2)
        }
        let (snapshot, evaluated, ports) = (loaded.snapshot, loaded.evaluated, loaded.ports)
        let name = (job ?? evaluated.name).split(separator: "/").joined(separator: "-")
        guard SlurmNames.isSafeName(name) else {
            throw fail("job name \"\(name)\": use letters, digits, _ and - (set --job, or the task's name)", code: 2)
        }
        let nonce = SlurmNames.makeNonce()
        let directory = "\(rootPath)/submissions/\(name).\(nonce)"
        let script = BatchScript(
            name: name, nonce: nonce, root: rootPath, sandboxRoot: absolutePath(sandboxRoot ?? rootPath + "/sandbox"),
            snapshot: directory + "/task.json", thermos: thermosBinary.map(absolutePath) ?? currentExecutable(),
            ports: ports, preemptionWait: evaluated.finalizationWait)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data((snapshot.jsonText() + "\n").utf8).write(to: URL(fileURLWithPath: script.snapshot))
            try Data(script.render().utf8).write(to: URL(fileURLWithPath: directory + "/batch.sh"))
        } catch {
            throw fail("cannot write the submission to \(directory): \(error.localizedDescription) (--root must be writable)", code: 2)
        }
        warnAboutKillWait(finalizationWait: evaluated.finalizationWait)
        let request = SbatchRequest(
            instances: instances, jobName: job ?? name, outputDirectory: directory, partition: partition, timeLimit: time,
            signalLead: SbatchRequest.signalLead(finalizationWait: evaluated.finalizationWait))
        let jobID: Int
        do {
            jobID = try Self.submit(request, script: directory + "/batch.sh")
            try JobStore.standard().save(JobRecord(
                jobID: jobID, name: name, nonce: nonce, instances: instances, root: rootPath, sandboxRoot: script.sandboxRoot,
                directory: directory, submittedAt: wallClock(), observerPort: observerPort))
        } catch {
            throw fail(error.description, code: 1)
        }
        if json {
            let taskIDs = (0..<instances).map { ConfigValue.string(SlurmNames.taskID(name: name, jobID: jobID, instance: $0, nonce: nonce)) }
            print(ConfigValue.map(["job_id": .integer(Int64(jobID)), "instances": .integer(Int64(instances)), "task_ids": .list(taskIDs)]).jsonText())
        } else {
            print(jobID)
        }
    }

    /// The task as the nodes will see it: the snapshot (user bindings applied, node bindings
    /// left as `{{…}}`), a trial evaluation and the port names.
    struct LoadedTask {
        var snapshot: ConfigValue
        var evaluated: TaskConfig
        var ports: [String]
    }

    private func load() throws(ConfigError) -> LoadedTask {
        // The same loading as `thermos run` (strict JSON/YAML, `.thermos`/`.aurora` through the DSL
        // loader); `--job` selects the job of an `.aurora` file and otherwise only names the array.
        let isDSL = DSLKind.of(config) != nil
        let template = try UserConfig(path: config, task: task, job: isDSL ? job : nil, bindings: bindings).load()
        // What the nodes bind; anything else left unbound is an error now, not on 50 nodes.
        let trial = template.binding([("mesos.instance", .string("0")), ("mesos.hostname", .string(hostName()))])
        try TaskValidator.validate(trial)
        let ports = try trial.requiredPorts()
        let evaluated = try trial.evaluate(context: ThermosContext(
            taskID: "submit-check", user: userName(uid: getuid()), ports: Dictionary(uniqueKeysWithValues: ports.map { ($0, 1) })))
        return LoadedTask(snapshot: try template.interpolated(context: nil).value, evaluated: evaluated, ports: ports)
    }

    /// Runs sbatch; returns the job id it printed.
    private static func submit(_ request: SbatchRequest, script: String) throws(SlurmError) -> Int {
        let output = try SlurmCommand.output(request.arguments(script: script))
        guard let id = SbatchRequest.parseJobID(output) else {
            throw SlurmError(.command, "sbatch printed no job id: \(output)")
        }
        return id
    }

    /// A KillWait shorter than the finalization budget cuts a plain `scancel` off mid-CLEANING.
    private func warnAboutKillWait(finalizationWait: Int) {
        guard let output = try? SlurmCommand.output(["scontrol", "show", "config"]),
            let value = SlurmNodes.configValue("KillWait", in: output), let seconds = SlurmNodes.seconds(value)
        else { return }
        let needed = SbatchRequest.requiredKillWait(finalizationWait: finalizationWait)
        if seconds < needed {
            printError("warning: KillWait is \(seconds) s; a plain scancel or preemption cuts the staged kill short (finalization_wait \(finalizationWait) s needs KillWait >= \(needed) in slurm.conf). `thermos cancel` is not affected.")
        }
    }
}

/// The path of the running executable.
func currentExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return String(decoding: buffer.prefix(max(count, 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension RunnerFlags {
    /// `$THERMOS_ROOT`, else the default root.
    static func defaultRoot() -> String {
        if let environment = getenv("THERMOS_ROOT"), environment.pointee != 0 { return String(cString: environment) }
        return TaskPath.defaultCheckpointRoot
    }
}
