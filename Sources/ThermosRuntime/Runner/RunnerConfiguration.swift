public import ThermosCheckpoint
public import ThermosConfig

/// Everything a runner needs to run one task: the evaluated task, where it lives, who runs it,
/// and the runner-wide options (reference §1.5 `TaskRunner(...)`).
public struct RunnerConfiguration: Sendable {
    /// The task with every `{{ref}}` resolved (thermos.task_id, ports, user included).
    public var task: TaskConfig
    public var taskID: String
    /// The checkpoint root (`<root>/checkpoints`, `<root>/tasks`).
    public var root: String
    public var sandbox: String
    /// Default `<sandbox>/.logs`.
    public var logDir: String
    /// The user processes run as.
    public var user: String
    /// `user`'s uid, written into the header (pid validation).
    public var uid: Int32?
    public var hostname: String
    public var ports: [String: Int]
    public var chroot: Bool = false
    public var preserveEnvironment: Bool = false
    /// Runner-wide logger settings, used for processes without their own `logger`.
    public var loggerDestination: LoggerDestination?
    public var loggerMode: LoggerMode?
    public var rotateLogSizeMB: Int?
    public var rotateLogBackups: Int?
    public var fsync: SyncPolicy = .group
    /// Runs after which a process fails (`thermos runner` uses 100, the CLI is unlimited).
    public var totalRunLimit: Int
    /// When the task was launched (header `launch_time_ms`).
    public var launchTime: Double
    /// The wait of a staged kill before everything is SIGKILLed (default 1 minute).
    public var preemptionWait: Double = 60
    /// Print every process's output live on the runner's stdout (`run --console`, simplerun).
    public var console: Bool = false
    /// Remove the sandbox once the task is terminal (simplerun's temporary sandbox).
    public var removeSandboxWhenDone: Bool = false

    public init(
        task: TaskConfig, taskID: String, root: String, sandbox: String, logDir: String? = nil, user: String,
        uid: Int32?, hostname: String, ports: [String: Int] = [:], totalRunLimit: Int = .max, launchTime: Double
    ) {
        self.task = task
        self.taskID = taskID
        self.root = root
        self.sandbox = sandbox
        self.logDir = logDir ?? sandbox + "/.logs"
        self.user = user
        self.uid = uid
        self.hostname = hostname
        self.ports = ports
        self.totalRunLimit = totalRunLimit
        self.launchTime = launchTime
    }

    /// The logging of `process`: its own `logger` when it has one, else the runner flags, else
    /// `file`/`standard`; rotation defaults to 100 MiB × 5.
    public func logging(for process: ProcessConfig) -> ProcessLogging {
        var logging = ProcessLogging()
        if let logger = process.logger {
            logging.destination = logger.destination
            logging.mode = logger.mode
            if let rotate = logger.rotate {
                logging.rotateSize = rotate.logSize
                logging.rotateBackups = rotate.backups
            }
        } else {
            logging.destination = loggerDestination ?? .file
            logging.mode = loggerMode ?? .standard
            if let size = rotateLogSizeMB { logging.rotateSize = Int64(size) * 1024 * 1024 }
            if let backups = rotateLogBackups { logging.rotateBackups = backups }
        }
        return logging
    }

    var runnerCheckpoint: String { TaskPath.runnerCheckpoint(root: root, taskID: taskID) }

    func coordinatorCheckpoint(_ process: String) -> String {
        TaskPath.processCheckpoint(root: root, taskID: taskID, process: process)
    }
}
