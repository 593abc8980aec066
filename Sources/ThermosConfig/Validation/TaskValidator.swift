import Glibc

/// The final original's task validation (`ThermosTaskValidator`), in its order: process names,
/// typecheck, plan validity of the regular and the final processes, and no unbound references.
public enum TaskValidator {
    /// Process names must match `^[^./][^/]*$`.
    public static func isValidProcessName(_ name: String) -> Bool {
        guard let first = name.first, first != ".", first != "/" else { return false }
        return !name.utf8.contains(UInt8(ascii: "/"))
    }

    /// Validates `template`; throws `ConfigError` with the original's message (prefixed
    /// `Invalid task: `) and the file.
    public static func validate(_ template: TaskTemplate) throws(ConfigError) {
        func invalid(_ message: String, field: String? = nil) -> ConfigError {
            ConfigError(.invalidTask, "Invalid task: \(message)", file: template.source, field: field)
        }
        func unboundError(_ unbound: [String]) -> ConfigError {
            let refs = unbound.map { "{{\($0)}}" }.joined(separator: ", ")
            return invalid("Unexpected unbound refs: \(refs). Make sure you are not nesting template variables.")
        }
        // Names, from the raw tree so that a bad name is reported before anything else.
        for (index, process) in (template.value["processes"]?.listValue ?? []).enumerated() {
            if case .string(let name)? = process["name"], !name.containsTemplateOpening, !isValidProcessName(name) {
                throw invalid("Task has invalid process: Invalid process name: \(name)", field: "processes[\(index)].name")
            }
        }
        // Typecheck and plan on a dummy thermos context, then require every reference bound.
        let dummy = ThermosContext(
            taskID: "dummy_task_id", user: "dummy_user",
            ports: Dictionary(uniqueKeysWithValues: ((try? template.requiredPorts()) ?? []).map { ($0, Int.random(in: 30000...39999)) }))
        let (resolved, unbound) = try template.interpolated(context: dummy)
        let task: TaskConfig
        do {
            task = try TaskDecoder.decodeTask(resolved)
        } catch {
            if !unbound.isEmpty { throw unboundError(unbound) }
            throw invalid("Failed to fully evaluate task: \(error.message)", field: error.field)
        }
        for (index, process) in task.processes.enumerated() where !isValidProcessName(process.name) {
            throw invalid("Task has invalid process: Invalid process name: \(process.name)", field: "processes[\(index)].name")
        }
        try checkShape(task, invalid: invalid)
        do {
            try ExtensionRules.check(task)
        } catch {
            throw invalid(error.message, field: error.field)
        }
        for final in [false, true] {
            do {
                let dependencies = try ProcessDependencies.extract(from: task) { $0.final == final }
                try dependencies.checkSatisfiable(processes: Set(task.processes.filter { $0.final == final }.map(\.name)))
            } catch {
                throw invalid("Task has invalid plan: \(error.message)", field: "constraints")
            }
        }
        if !unbound.isEmpty { throw unboundError(unbound) }
    }

    /// Rules the original did not check (it crashed or ran nothing): at least one process,
    /// unique process names, no negative counts or durations.
    private static func checkShape(
        _ task: TaskConfig, invalid: (String, String?) -> ConfigError
    ) throws(ConfigError) {
        guard !task.processes.isEmpty else {
            throw invalid("Task has no processes: add at least one under processes", "processes")
        }
        var firstIndex: [String: Int] = [:]
        for (index, process) in task.processes.enumerated() {
            if let earlier = firstIndex[process.name] {
                throw invalid(
                    "Task has two processes named \(process.name) (processes[\(earlier)] and processes[\(index)]); process names must be unique",
                    "processes[\(index)].name")
            }
            firstIndex[process.name] = index
        }
        let taskFields = [("max_failures", task.maxFailures), ("max_concurrency", task.maxConcurrency), ("finalization_wait", task.finalizationWait)]
        for (key, value) in taskFields where value < 0 {
            throw invalid("\(key) must not be negative, got \(value)", key)
        }
        for (index, process) in task.processes.enumerated() {
            for (key, value) in [("max_failures", process.maxFailures), ("min_duration", process.minDuration)] where value < 0 {
                throw invalid("\(key) must not be negative, got \(value)", "processes[\(index)].\(key)")
            }
        }
    }

    /// Every port the task needs must be in `ports` (`Task requires unbound port http!`).
    public static func assertValidPorts(_ template: TaskTemplate, ports: [String: Int]) throws(ConfigError) {
        for name in try template.requiredPorts() where ports[name] == nil {
            throw ConfigError(.invalidTask, "Task requires unbound port \(name)!", file: template.source)
        }
    }
}
