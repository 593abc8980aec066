public import OrderedCollections

/// `Resources`: what a task or process asks for. Thermos itself does not enforce it.
public struct Resources: Sendable, Hashable {
    /// Required.
    public var cpu: Double
    /// Required, bytes.
    public var ram: Int64
    /// Required, bytes.
    public var disk: Int64
    /// Default 0.
    public var gpu: Int64

    public init(cpu: Double, ram: Int64, disk: Int64, gpu: Int64 = 0) {
        self.cpu = cpu
        self.ram = ram
        self.disk = disk
        self.gpu = gpu
    }
}

/// `Constraint`: processes that must run one after another, in list order.
public struct Constraint: Sendable, Hashable {
    public var order: [String]

    public init(order: [String]) {
        self.order = order
    }
}

/// `RotatePolicy`: size and number of rotated log files.
public struct RotatePolicy: Sendable, Hashable {
    /// Default 100 MiB.
    public var logSize: Int64
    /// Default 5.
    public var backups: Int

    public init(logSize: Int64 = 100 * ByteUnit.mb, backups: Int = 5) {
        self.logSize = logSize
        self.backups = backups
    }
}

/// `LoggerDestination`: where a process's stdout/stderr go.
public enum LoggerDestination: String, Sendable, Hashable, CaseIterable {
    case file, console, both, none
}

/// `LoggerMode`: how log files are written.
public enum LoggerMode: String, Sendable, Hashable, CaseIterable {
    case standard, rotate
}

/// `Logger` in the original schema: per-process logging configuration.
public struct LoggerConfig: Sendable, Hashable {
    /// Default `file`.
    public var destination: LoggerDestination
    /// Default `standard`.
    public var mode: LoggerMode
    /// Empty unless given.
    public var rotate: RotatePolicy?

    public init(destination: LoggerDestination = .file, mode: LoggerMode = .standard, rotate: RotatePolicy? = nil) {
        self.destination = destination
        self.mode = mode
        self.rotate = rotate
    }
}

/// `Process` in the original schema: one shell command of a task and its restart rules.
public struct ProcessConfig: Sendable, Hashable {
    /// Required; matches `^[^./][^/]*$`.
    public var name: String
    /// Required; run as `/bin/bash -c cmdline`.
    public var cmdline: String
    /// Empty unless given; unused by Thermos.
    public var resources: Resources?
    /// Default 1; 0 retries forever.
    public var maxFailures: Int
    /// Default false; re-run after success.
    public var daemon: Bool
    /// Default false; not waited for.
    public var ephemeral: Bool
    /// Default 5 seconds between runs.
    public var minDuration: Int
    /// Default false; runs in the FINALIZING stage.
    public var final: Bool
    /// Empty unless given.
    public var logger: LoggerConfig?
    /// Our extension: environment variables set after the scrubbed environment and the
    /// `.thermos_profile` rules (values templated like `cmdline`). Empty unless given.
    public var env: OrderedDictionary<String, String> = [:]
    /// Our extension: the working directory, relative to the sandbox and inside it. Nil: the sandbox.
    public var cwd: String?
    /// Our extension: passes once the process can serve (`depends_on: {this: ready}` waits for it).
    public var readiness: ProbeConfig?
    /// Our extension: `max_consecutive_failures` failures in a row end the run as FAILED.
    public var liveness: ProbeConfig?
    /// Our extension: what must hold of other processes before this one starts.
    public var dependsOn: OrderedDictionary<String, DependencyCondition> = [:]

    public init(
        name: String, cmdline: String, resources: Resources? = nil, maxFailures: Int = 1, daemon: Bool = false,
        ephemeral: Bool = false, minDuration: Int = 5, final: Bool = false, logger: LoggerConfig? = nil
    ) {
        self.name = name
        self.cmdline = cmdline
        self.resources = resources
        self.maxFailures = maxFailures
        self.daemon = daemon
        self.ephemeral = ephemeral
        self.minDuration = minDuration
        self.final = final
        self.logger = logger
    }
}

/// `Task` in the original schema: a set of processes with ordering constraints and task-wide rules.
/// This is the evaluated form: every `{{ref}}` has been resolved.
public struct TaskConfig: Sendable, Hashable {
    /// Default `{{processes[0].name}}`.
    public var name: String
    public var processes: [ProcessConfig]
    /// Default `[]`.
    public var constraints: [Constraint]
    /// Empty unless given.
    public var resources: Resources?
    /// Default 1: failed processes before the task fails; 0 = never.
    public var maxFailures: Int
    /// Default 0 = unlimited.
    public var maxConcurrency: Int
    /// Default 30 seconds: budget for CLEANING + FINALIZING.
    public var finalizationWait: Int
    /// Empty unless given.
    public var user: String?
    /// Our extension: a task-wide liveness check (an Aurora job's `health_check_config`): when it
    /// fails `max_consecutive_failures` times in a row the task is killed and ends FAILED.
    public var healthCheck: ProbeConfig?

    public init(
        name: String, processes: [ProcessConfig] = [], constraints: [Constraint] = [], resources: Resources? = nil,
        maxFailures: Int = 1, maxConcurrency: Int = 0, finalizationWait: Int = 30, user: String? = nil
    ) {
        self.name = name
        self.processes = processes
        self.constraints = constraints
        self.resources = resources
        self.maxFailures = maxFailures
        self.maxConcurrency = maxConcurrency
        self.finalizationWait = finalizationWait
        self.user = user
    }
}

/// `ThermosContext`: what the runner binds as `thermos` at run time
/// (`{{thermos.task_id}}`, `{{thermos.user}}`, `{{thermos.ports[name]}}`).
public struct ThermosContext: Sendable, Hashable {
    public var taskID: String?
    public var user: String?
    public var ports: [String: Int]

    public init(taskID: String? = nil, user: String? = nil, ports: [String: Int] = [:]) {
        self.taskID = taskID
        self.user = user
        self.ports = ports
    }
}
