/// The on-disk layout of a Thermos root (the original's `TaskPath`): where task files,
/// checkpoint streams and process logs live. Keys not supplied stay as `%(key)s` placeholders,
/// so partial paths can be built (e.g. glob patterns) and completed later with `given`.
public struct TaskPath: Sendable, Hashable {
    /// Default checkpoint root of the original (`DEFAULT_CHECKPOINT_ROOT`).
    public static let defaultCheckpointRoot = "/var/run/thermos"

    /// A path template of the original, by its name.
    public enum Template: String, Sendable, CaseIterable {
        case taskPath = "task_path"
        case checkpointPath = "checkpoint_path"
        case runnerCheckpoint = "runner_checkpoint"
        case processCheckpoint = "process_checkpoint"
        case processLogbase = "process_logbase"
        case processLogdir = "process_logdir"

        var pattern: String {
            switch self {
            case .taskPath: "%(root)s/tasks/%(state)s/%(task_id)s"
            case .checkpointPath: "%(root)s/checkpoints/%(task_id)s"
            case .runnerCheckpoint: "%(root)s/checkpoints/%(task_id)s/runner"
            case .processCheckpoint: "%(root)s/checkpoints/%(task_id)s/coordinator.%(process)s"
            case .processLogbase: "%(log_dir)s"
            case .processLogdir: "%(log_dir)s/%(process)s/%(run)s"
            }
        }

        /// The 2012-era layout, used when a header has no `log_dir`: logs under the root.
        var legacyPattern: String {
            switch self {
            case .processLogbase: "%(root)s/logs/%(task_id)s"
            case .processLogdir: "%(root)s/logs/%(task_id)s/%(process)s/%(run)s"
            default: pattern
            }
        }
    }

    /// `tasks/<state>/` directory names.
    public enum TaskDirectory: String, Sendable, CaseIterable {
        case active, finished
    }

    /// Why a path could not be built.
    public struct PathError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The known keys: `root`, `task_id`, `state`, `process`, `run`, `log_dir`.
    public private(set) var values: [String: String]
    /// The final path component appended by `with(filename:)`, if any.
    public private(set) var filename: String?
    /// Use the legacy log templates (headers without `log_dir`).
    public var legacyLogLayout: Bool

    public init(
        root: String? = nil, taskID: String? = nil, state: TaskDirectory? = nil, process: String? = nil,
        run: Int? = nil, logDir: String? = nil, legacyLogLayout: Bool = false
    ) {
        var values: [String: String] = [:]
        values["root"] = root
        values["task_id"] = taskID
        values["state"] = state?.rawValue
        values["process"] = process
        values["run"] = run.map(String.init)
        values["log_dir"] = logDir
        self.values = values
        self.filename = nil
        self.legacyLogLayout = legacyLogLayout
    }

    /// A copy with more keys supplied (nil leaves a key as it is).
    public func given(
        root: String? = nil, taskID: String? = nil, state: TaskDirectory? = nil, process: String? = nil,
        run: Int? = nil, logDir: String? = nil
    ) -> TaskPath {
        var copy = self
        if let root { copy.values["root"] = root }
        if let taskID { copy.values["task_id"] = taskID }
        if let state { copy.values["state"] = state.rawValue }
        if let process { copy.values["process"] = process }
        if let run { copy.values["run"] = String(run) }
        if let logDir { copy.values["log_dir"] = logDir }
        return copy
    }

    /// A copy whose paths end with `filename` (e.g. `stdout`, `stderr`, `stdout.1`).
    public func with(filename: String) -> TaskPath {
        var copy = self
        copy.filename = filename
        return copy
    }

    /// The template with every supplied key substituted; unsupplied keys remain as `%(key)s`.
    public func interpolated(_ template: Template) -> String {
        var path = legacyLogLayout ? template.legacyPattern : template.pattern
        for (key, value) in values {
            path = path.replacing("%(\(key))s", with: value)
        }
        if let filename { path += "/" + filename }
        return path
    }

    /// The path of `template`; throws if any key it needs was not supplied.
    public func path(_ template: Template) throws(PathError) -> String {
        let path = interpolated(template)
        if path.contains("%(") {
            throw PathError(message: "Tried to interpolate path with insufficient variables: \(template.rawValue) as \(path)")
        }
        return path
    }

    /// The path of a template by its original name (`getpath`).
    public func path(named name: String) throws(PathError) -> String {
        guard let template = Template(rawValue: name) else {
            throw PathError(message: "Internal error, unknown id: \(name)")
        }
        return try path(template)
    }
}

extension TaskPath {
    /// `<root>/tasks/<state>/<taskID>`.
    public static func taskFile(root: String, taskID: String, state: TaskDirectory) -> String {
        "\(root)/tasks/\(state.rawValue)/\(taskID)"
    }

    /// `<root>/checkpoints/<taskID>`.
    public static func checkpointDirectory(root: String, taskID: String) -> String {
        "\(root)/checkpoints/\(taskID)"
    }

    /// `<root>/checkpoints/<taskID>/runner`.
    public static func runnerCheckpoint(root: String, taskID: String) -> String {
        "\(root)/checkpoints/\(taskID)/runner"
    }

    /// `<root>/checkpoints/<taskID>/probes.json`: the last probe results the runner publishes
    /// (our extension; not part of Aurora's checkpoint, rewritten atomically by the runner).
    public static func probeStatus(root: String, taskID: String) -> String {
        "\(root)/checkpoints/\(taskID)/probes.json"
    }

    /// `<root>/checkpoints/<taskID>/coordinator.<process>`.
    public static func processCheckpoint(root: String, taskID: String, process: String) -> String {
        "\(root)/checkpoints/\(taskID)/coordinator.\(process)"
    }

    /// The log base of a task: the header's `log_dir`, or `<root>/logs/<taskID>` for legacy
    /// headers that have none.
    public static func logBase(root: String, taskID: String, header: RunnerHeader?) -> String {
        if let logDir = header?.logDir { return logDir }
        return "\(root)/logs/\(taskID)"
    }

    /// `<logBase>/<process>/<run>`.
    public static func processLogDirectory(logBase: String, process: String, run: Int) -> String {
        "\(logBase)/\(process)/\(run)"
    }
}
