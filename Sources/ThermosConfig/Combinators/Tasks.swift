/// The original's `schema_helpers` combinators, over evaluated tasks.
public enum Tasks {
    /// `order(p1, p2, …)`: one constraint running the named processes in sequence.
    public static func order(_ names: [String]) -> [Constraint] {
        [Constraint(order: names)]
    }

    /// `order(p1, p2, …)` over processes.
    public static func order(_ processes: [ProcessConfig]) -> [Constraint] {
        order(processes.map(\.name))
    }

    /// `Tasks.simple`: one process, resources cpu 1.0, ram 1 GiB, disk 1 GiB.
    public static func simple(name: String, command: String) -> TaskConfig {
        TaskConfig(
            name: name, processes: [ProcessConfig(name: name, cmdline: command)],
            resources: Resources(cpu: 1.0, ram: ByteUnit.gb, disk: ByteUnit.gb))
    }

    /// `SequentialTask`: the task's processes run in list order.
    public static func sequential(_ task: TaskConfig) throws(ConfigError) -> TaskConfig {
        guard task.constraints.isEmpty else {
            throw ConfigError(.invalidTask, "Cannot turn a Task with existing constraints into a SequentialTask!")
        }
        var copy = task
        copy.constraints = order(task.processes)
        return copy
    }

    /// Component-wise sum (absent resources count as zero).
    public static func resourcesSum(_ resources: [Resources?]) -> Resources {
        resources.compactMap { $0 }.reduce(Resources(cpu: 0, ram: 0, disk: 0, gpu: 0)) {
            Resources(cpu: $0.cpu + $1.cpu, ram: $0.ram + $1.ram, disk: $0.disk + $1.disk, gpu: $0.gpu + $1.gpu)
        }
    }

    /// Component-wise maximum (absent resources count as zero).
    public static func resourcesMax(_ resources: [Resources?]) -> Resources {
        resources.compactMap { $0 }.reduce(Resources(cpu: 0, ram: 0, disk: 0, gpu: 0)) {
            Resources(cpu: max($0.cpu, $1.cpu), ram: max($0.ram, $1.ram), disk: max($0.disk, $1.disk), gpu: max($0.gpu, $1.gpu))
        }
    }

    private static func union<T: Hashable>(_ lists: [[T]]) -> [T] {
        var seen = Set<T>()
        return lists.flatMap { $0 }.filter { seen.insert($0).inserted }
    }

    /// `combine_tasks`: all processes in parallel; identity of the last task; resources summed;
    /// constraints united; `finalization_wait` the maximum. No tasks → an empty task.
    public static func combine(_ tasks: [TaskConfig]) -> TaskConfig {
        guard var result = tasks.last else { return TaskConfig(name: "") }
        result.processes = union(tasks.map(\.processes))
        result.constraints = union(tasks.map(\.constraints))
        result.resources = resourcesSum(tasks.map(\.resources))
        result.finalizationWait = tasks.map(\.finalizationWait).max() ?? result.finalizationWait
        return result
    }

    /// `concat_tasks`: each task's processes run after every process of the previous task;
    /// identity of the last; resources the maximum; `finalization_wait` the sum.
    public static func concat(_ tasks: [TaskConfig]) -> TaskConfig {
        guard var result = tasks.last else { return TaskConfig(name: "") }
        var constraints = union(tasks.map(\.constraints))
        for (before, after) in zip(tasks, tasks.dropFirst()) {
            for first in before.processes {
                for second in after.processes where first.name != second.name {
                    constraints.append(Constraint(order: [first.name, second.name]))
                }
            }
        }
        result.processes = union(tasks.map(\.processes))
        result.constraints = union([constraints])
        result.resources = resourcesMax(tasks.map(\.resources))
        result.finalizationWait = tasks.map(\.finalizationWait).reduce(0, +)
        return result
    }
}

/// An option for `Options.java`/`Options.python`: a bare flag, or a flag with a value.
public enum CommandOption: Sendable, Hashable {
    case flag(String)
    case value(String, String?)
}

/// The original's `java_options` / `python_options` rendering.
public enum Options {
    /// Every option as `-name [value]`.
    public static func java(_ options: [CommandOption]) -> String {
        render(options) { _ in "-" }
    }

    /// Single-letter options as `-x`, longer ones as `--name`.
    public static func python(_ options: [CommandOption]) -> String {
        render(options) { $0.count == 1 ? "-" : "--" }
    }

    private static func render(_ options: [CommandOption], prefix: (String) -> String) -> String {
        options.map { option in
            switch option {
            case .flag(let name): return prefix(name) + name
            case .value(let name, let value):
                guard let value, !value.isEmpty else { return prefix(name) + name }
                return "\(prefix(name))\(name) \(value)"
            }
        }.joined(separator: " ")
    }
}
