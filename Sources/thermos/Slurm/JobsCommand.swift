import ArgumentParser
import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosSlurm

/// `thermos jobs`: one row per instance of the job arrays `thermos submit` recorded.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Show the instances of submitted Slurm jobs.",
        discussion: """
            One row per instance: Slurm job id, instance, node, Slurm state, task id, Thermos task \
            state (null until the instance has started) and the task's page on the node's \
            observer. Jobs come from the records `thermos submit` keeps ($THERMOS_JOBS_DIR, else \
            ~/.local/state/thermos/jobs), so finished jobs Slurm has forgotten are still listed. \
            The Thermos state is read from the checkpoint when the root is reachable from here, \
            else from the node's observer (/j/task, one request per node).
            """
    )

    @Flag(help: "Print a JSON list of {job_id, instance, node, slurm_state, task_id, state, observer}.")
    var json = false

    @Argument(help: ArgumentHelp("Jobs to show (default: every recorded job).", valueName: "job_id[.instance]"))
    var jobs: [String] = []

    func run() throws {
        let store = JobStore.standard()
        let records: [JobRecord]
        let targets: [JobTarget]
        do {
            targets = try jobs.map(JobTarget.parse)
            if targets.isEmpty {
                records = try store.all()
            } else {
                var found: [JobRecord] = []
                for id in OrderedSet(targets.map(\.jobID)) {
                    guard let record = try store.load(id) else {
                        throw SlurmError(.unknownJob, "no record of job \(id) in \(store.directory) (jobs submitted with `thermos submit`; set THERMOS_JOBS_DIR)")
                    }
                    found.append(record)
                }
                records = found
            }
        } catch {
            throw fail("\(error)", code: 1)
        }
        let squeue: [SqueueRow]
        do {
            squeue = records.isEmpty ? [] : try Squeue.rows(jobIDs: records.map(\.jobID))
        } catch {
            throw fail("\(error)", code: 1)
        }
        // Jobs named with instances only (`42.1 42.3`) show those; a job named whole shows all.
        let selection = Dictionary(grouping: targets, by: \.jobID)
            .filter { $0.value.allSatisfy { $0.instance != nil } }
            .mapValues { Set($0.compactMap(\.instance)) }
        let states = TaskStates()
        let rows = JobsReport.rows(
            records: records, squeue: squeue, instances: selection, observerPort: \.observerPort,
            states: { states.lookup(record: $0, rows: $1) })
        remember(squeue, in: records, store: store)
        if json {
            print(ConfigValue.list(rows.map(Self.jsonRow)).jsonText())
        } else {
            printTable(rows)
        }
    }

    static func jsonRow(_ row: InstanceRow) -> ConfigValue {
        let optional: (String?) -> ConfigValue = { $0.map(ConfigValue.string) ?? .null }
        return .map([
            "job_id": .integer(Int64(row.jobID)), "instance": .integer(Int64(row.instance)), "node": optional(row.node),
            "slurm_state": optional(row.slurmState), "task_id": .string(row.taskID), "state": optional(row.state),
            "observer": optional(row.observer),
        ])
    }

    private func printTable(_ rows: [InstanceRow]) {
        let header = ["JOB", "INSTANCE", "NODE", "SLURM", "STATE", "TASK ID", "OBSERVER"]
        let cells = rows.map {
            [String($0.jobID), String($0.instance), $0.node ?? "-", $0.slurmState ?? "-", $0.state ?? "-", $0.taskID, $0.observer ?? "-"]
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for line in [header] + cells {
            let padded = line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            print(padded.joined(separator: "  "))
        }
    }

    /// Keeps the node and Slurm state of every instance Slurm still lists, for when it forgets them.
    private func remember(_ squeue: [SqueueRow], in records: [JobRecord], store: JobStore) {
        for var record in records {
            var changed = false
            for row in squeue where row.arrayJobID == record.jobID {
                guard let instance = row.instance else { continue }
                let sighting = JobRecord.Sighting(node: row.nodes.isEmpty ? nil : row.nodes, slurmState: row.state)
                if record.lastSeen[String(instance)] != sighting {
                    record.lastSeen[String(instance)] = sighting
                    changed = true
                }
            }
            if changed { try? store.save(record) }
        }
    }
}

/// `JOB_ID` or `JOB_ID.INSTANCE` (also `JOB_ID_INSTANCE`, Slurm's spelling).
struct JobTarget: Equatable {
    var jobID: Int
    var instance: Int?

    static func parse(_ text: String) throws(SlurmError) -> JobTarget {
        let parts = text.split(whereSeparator: { $0 == "." || $0 == "_" }).map(String.init)
        guard (1...2).contains(parts.count), let job = Int(parts[0]), parts.count == 1 || Int(parts[1]) != nil else {
            throw SlurmError(.unknownJob, "\(text): expected JOB_ID or JOB_ID.INSTANCE, e.g. 42 or 42.3")
        }
        return JobTarget(jobID: job, instance: parts.count == 2 ? Int(parts[1]) : nil)
    }
}

/// `squeue` for this user's jobs, every element on its own line.
enum Squeue {
    static func rows(jobIDs: [Int]) throws(SlurmError) -> [SqueueRow] {
        let wanted = Set(jobIDs)
        // Without -j: squeue rejects the whole request when one id has been purged.
        let output = try SlurmCommand.output(["squeue", "--me", "-h", "-r", "-t", "all", "-o", SqueueRow.format])
        return SqueueRow.parse(output).filter { wanted.contains($0.arrayJobID) }
    }
}

/// Task states from checkpoints (root reachable here) or from each node's observer.
final class TaskStates {
    private var nodeAddresses: [String: String]?

    func lookup(record: JobRecord, rows: [(taskID: String, node: String?)]) -> [String: (state: String, host: String?)] {
        var result: [String: (state: String, host: String?)] = [:]
        var info = stat()
        if stat(record.root, &info) == 0 {
            for row in rows {
                let path = TaskPath.runnerCheckpoint(root: record.root, taskID: row.taskID)
                guard isRegularFile(path) else { continue }
                do {
                    let state = try RunnerState.replaying(path: path).state
                    result[row.taskID] = (state.taskState?.name ?? "ACTIVE", state.header?.hostname)
                } catch {
                    printError("warning: \(path): \(error)")
                }
            }
            return result
        }
        let client = ObserverClient()
        for (node, group) in Dictionary(grouping: rows.filter { $0.node != nil }, by: { $0.node! }) {
            let address = addresses()[node] ?? node
            do {
                for (id, state) in try client.states(host: address, port: record.observerPort, taskIDs: group.map(\.taskID)) {
                    result[id] = (state, node)
                }
            } catch {
                printError("warning: \(error)")
            }
        }
        return result
    }

    private func addresses() -> [String: String] {
        if let nodeAddresses { return nodeAddresses }
        let text = (try? SlurmCommand.output(["scontrol", "show", "nodes", "-o"])) ?? ""
        nodeAddresses = SlurmNodes.addresses(text)
        return nodeAddresses ?? [:]
    }
}
