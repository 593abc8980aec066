import OrderedCollections
/// Why a task's process ordering cannot be scheduled (the original's `InvalidSchedule`).
public struct InvalidSchedule: Error, Sendable, Hashable, CustomStringConvertible {
    /// The original's message, e.g. `Cycles detected in the task schedule!`.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The ordering graph of a set of processes: for each process, the processes that must finish first.
public struct ProcessDependencies: Sendable, Hashable {
    /// process name → prerequisite process names.
    public var prerequisites: [String: Set<String>]

    public init(prerequisites: [String: Set<String>] = [:]) {
        self.prerequisites = prerequisites
    }

    /// The dependencies that `task.constraints` impose on the processes selected by `include`
    /// (all of them when `include` is nil), with the original's rules:
    /// an order naming both selected and unselected processes is invalid, an order naming only
    /// unselected (or unknown) processes is skipped, nothing may depend on a daemon, and a
    /// non-ephemeral process may not depend on an ephemeral one.
    public static func extract(
        from task: TaskConfig, including include: ((ProcessConfig) -> Bool)? = nil
    ) throws(InvalidSchedule) -> ProcessDependencies {
        var byName: [String: ProcessConfig] = [:]
        for process in task.processes where include?(process) ?? true {
            byName[process.name] = process
        }
        var prerequisites: [String: Set<String>] = [:]
        for constraint in task.constraints {
            let inside = constraint.order.filter { byName[$0] != nil }
            if inside.isEmpty { continue }
            if inside.count != constraint.order.count {
                throw InvalidSchedule("Invalid process dependencies!")
            }
            for (previousName, nextName) in zip(constraint.order, constraint.order.dropFirst()) {
                guard let previous = byName[previousName], let next = byName[nextName] else { continue }
                if previous.daemon {
                    throw InvalidSchedule("Process \(nextName) may not depend upon daemon process \(previousName)")
                }
                if !next.ephemeral && previous.ephemeral {
                    throw InvalidSchedule(
                        "Non-ephemeral process \(nextName) may not depend upon ephemeral process \(previousName)")
                }
                prerequisites[nextName, default: []].insert(previousName)
            }
        }
        // `depends_on: {other: completed}` (our extension) is an order of two, with its rules.
        for process in task.processes where byName[process.name] != nil {
            for (otherName, condition) in process.dependsOn where condition == .completed {
                guard let other = byName[otherName] else { continue }
                if other.daemon {
                    throw InvalidSchedule("Process \(process.name) may not depend upon daemon process \(otherName)")
                }
                if !process.ephemeral && other.ephemeral {
                    throw InvalidSchedule(
                        "Non-ephemeral process \(process.name) may not depend upon ephemeral process \(otherName)")
                }
                prerequisites[process.name, default: []].insert(otherName)
            }
        }
        return ProcessDependencies(prerequisites: prerequisites)
    }

    /// Throws `Cycles detected in the task schedule!` unless every process in `processes` can be
    /// scheduled: repeatedly remove processes whose prerequisites are all removed.
    public func checkSatisfiable(processes: Set<String>) throws(InvalidSchedule) {
        var remaining = processes
        while true {
            let ready = remaining.filter { name in
                prerequisites[name, default: []].allSatisfy { !remaining.contains($0) }
            }
            if ready.isEmpty { break }
            remaining.subtract(ready)
        }
        if !remaining.isEmpty {
            throw InvalidSchedule("Cycles detected in the task schedule!")
        }
    }
}
