import Glibc
public import ThermosConfig

/// A task ready to run: the evaluated config and the task id it is bound to.
public struct LaunchedTask: Sendable, Hashable {
    public var task: TaskConfig
    public var taskID: String

    public init(task: TaskConfig, taskID: String) {
        self.task = task
        self.taskID = taskID
    }
}

/// The launch pipeline shared by `thermos run`, `thermos simplerun` and `thermos runner`: port
/// bindings → required ports → validation → evaluation (task id bound) → runner configuration.
/// Loading the file (formats, the Python DSL, task selection) stays with the caller, and so does
/// resolving the account (its order against validation is part of each command's behaviour).
/// Pure apart from the default task id, which is formatted in local time like the original's.
public struct TaskLaunch: Sendable {
    /// Port bindings, name → port.
    public var ports: [String: Int]
    /// When the launch started (seconds since the epoch): default task id and header time.
    public var launchTime: Double

    public init(ports: [String: Int], launchTime: Double) {
        self.ports = ports
        self.launchTime = launchTime
    }

    /// Parses `name:port` bindings (`-P`/`--port`); a later binding of a name wins.
    public static func parsePorts(_ specs: [String]) throws(LaunchError) -> [String: Int] {
        var ports: [String: Int] = [:]
        for spec in specs {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (0...65535).contains(port) else {
                throw LaunchError(
                    .invalidPortBinding, "Invalid port binding \"\(spec)\": expected name:port, e.g. -P http:8080")
            }
            ports[parts[0]] = port
        }
        return ports
    }

    /// Checks that every port the template needs is bound, then validates it.
    public func check(_ template: TaskTemplate) throws(LaunchError) {
        let missing: [String]
        do {
            missing = try template.requiredPorts().filter { ports[$0] == nil }
        } catch {
            throw LaunchError(invalidTask: error)
        }
        if !missing.isEmpty {
            throw LaunchError(
                .unboundPorts, "Unbound ports: \(missing.joined(separator: " "))", missingPorts: missing)
        }
        do {
            try TaskValidator.validate(template)
        } catch {
            throw LaunchError(invalidTask: error)
        }
    }

    /// Evaluates a checked template for `user`: the name first (for the default task id), then
    /// the whole task with `{{thermos.task_id}}` bound; any reference left unbound is an error.
    public func evaluate(_ template: TaskTemplate, user: String, taskID: String?) throws(LaunchError) -> LaunchedTask {
        do {
            let resolvedID: String
            if let taskID {
                resolvedID = taskID
            } else {
                let name = try template.evaluate(context: ThermosContext(user: user, ports: ports), allowUnbound: true).name
                resolvedID = Self.defaultTaskID(name: name, at: launchTime)
            }
            let task = try template.evaluate(context: ThermosContext(taskID: resolvedID, user: user, ports: ports))
            return LaunchedTask(task: task, taskID: resolvedID)
        } catch {
            throw LaunchError(invalidTask: error)
        }
    }

    /// The one-process task of `thermos simplerun` (its command line is run as it is, not
    /// templated): 1 CPU, 256 MiB of RAM.
    public static func commandLineTask(name: String, cmdline: String) throws(LaunchError) -> TaskConfig {
        guard TaskValidator.isValidProcessName(name) else {
            throw LaunchError(.invalidProcessName, "Invalid process name: \(name) (must match ^[^./][^/]*$)")
        }
        return TaskConfig(
            name: name, processes: [ProcessConfig(name: name, cmdline: cmdline)],
            resources: Resources(cpu: 1.0, ram: 256 * 1024 * 1024, disk: 0))
    }

    /// Binds an already evaluated task to `taskID`, or to the default id of its name.
    public func identify(_ task: TaskConfig, taskID: String?) -> LaunchedTask {
        LaunchedTask(task: task, taskID: taskID ?? Self.defaultTaskID(name: task.name, at: launchTime))
    }

    /// The runner configuration of a launched task (process and sync options are the caller's
    /// to set on the result).
    public func configuration(
        _ launched: LaunchedTask, root: String, sandbox: String, logDir: String? = nil, user: String, uid: Int32?,
        hostname: String, totalRunLimit: Int = .max
    ) -> RunnerConfiguration {
        RunnerConfiguration(
            task: launched.task, taskID: launched.taskID, root: root, sandbox: sandbox, logDir: logDir, user: user, uid: uid,
            hostname: hostname, ports: ports, totalRunLimit: totalRunLimit, launchTime: launchTime)
    }

    /// The original's default task id: `<name>-YYYYmmdd-HHMMSS.<microseconds>` (local time).
    public static func defaultTaskID(name: String, at time: Double) -> String {
        var seconds = time_t(time)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y%m%d-%H%M%S", &parts)
        let micros = Int((time - Double(Int(time))) * 1_000_000)
        let digits = String(micros)
        return "\(name)-\(String(cString: buffer)).\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits)"
    }
}
