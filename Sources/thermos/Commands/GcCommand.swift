import ArgumentParser
import Foundation
import ThermosMonitor

/// `thermos gc`: garbage-collect finished tasks by age, count and disk space (DESIGN §2.7).
struct GcCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Garbage collect task(s) and task metadata.",
        discussion: """
            Only finished tasks are considered; an active task is never touched. With TASK_IDs \
            (regular expressions matched at the start of the id) those finished tasks are \
            collected; without, the policy flags choose: tasks older than --max-age, then the \
            oldest until the rest fit in --max-space, then the oldest until at most --max-tasks \
            remain. Among tasks of equal age, failed ones are kept longest. By default data, logs \
            and metadata are all kept, so nothing is deleted unless a --delete-* flag is given.
            """
    )

    enum DataChoice: EnumerableFlag { case keepData, deleteData }
    enum LogsChoice: EnumerableFlag { case keepLogs, deleteLogs }
    enum MetadataChoice: EnumerableFlag { case keepMetadata, deleteMetadata }

    @OptionGroup var rootOptions: RootOptions

    @Option(name: [.customLong("max-age"), .customLong("max_age")], help: ArgumentHelp("Collect tasks older than this (e.g. 2d5h, 7200s).", valueName: "age"))
    var maxAge: String?

    @Option(name: [.customLong("max-tasks"), .customLong("max_tasks")], help: ArgumentHelp("Keep at most this many finished tasks.", valueName: "num"))
    var maxTasks: Int?

    @Option(name: [.customLong("max-space"), .customLong("max_space")], help: ArgumentHelp("Keep finished tasks under this size (bytes, or k/m/g/t suffix).", valueName: "space"))
    var maxSpace: String?

    @Flag(help: "Keep or delete the sandbox of collected tasks (default: keep).")
    var data: DataChoice = .keepData

    @Flag(help: "Keep or delete the logs of collected tasks (default: keep).")
    var logs: LogsChoice = .keepLogs

    @Flag(help: "Keep or delete the task file and checkpoints of collected tasks (default: keep).")
    var metadata: MetadataChoice = .keepMetadata

    @Flag(name: [.customLong("dry-run"), .customLong("dryrun")], help: "Only print what would be deleted.")
    var dryRun = false

    @Flag(help: "Do not ask for confirmation.")
    var force = false

    @Argument(help: ArgumentHelp("Finished task ids or regular expressions to collect.", valueName: "task_id"))
    var taskIDs: [String] = []

    func run() throws {
        var policy = GCPolicy()
        do {
            policy.maxAge = try maxAge.map(Amounts.parseTime)
            policy.maxSpace = try maxSpace.map(Amounts.parseData)
        } catch {
            throw fail(error.description, code: 2)
        }
        if let maxTasks, maxTasks < 0 { throw fail("--max-tasks must not be negative", code: 2) }
        policy.maxTasks = maxTasks
        policy.deleteData = data == .deleteData
        policy.deleteLogs = logs == .deleteLogs
        policy.deleteMetadata = metadata == .deleteMetadata
        let matchers: [Regex<AnyRegexOutput>]
        do {
            matchers = try taskIDs.map { try Regex($0) }
        } catch {
            throw fail("Invalid task pattern: \(error)", code: 2)
        }

        var plans: [(GarbageCollector, [GCCandidate])] = []
        for root in rootOptions.roots {
            print("Analyzing root at \(root)")
            let collector = GarbageCollector(root: root)
            let finished = collector.finishedTasks()
            var chosen: [GCCandidate]
            if matchers.isEmpty {
                print("No task ids specified, using default collector.")
                for task in finished.sorted(by: { $0.age > $1.age }) {
                    print("Analyzing task \(task.taskID) (age: \(task.age) secs)...  metadata \(kb(task.metadataSize))KB  logs \(kb(task.logSize))KB  data \(mb(task.dataSize))MB")
                }
                chosen = GarbageCollector.select(finished, policy: policy) { print($0) }
            } else {
                chosen = finished.filter { task in matchers.contains { task.taskID.prefixMatch(of: $0) != nil } }
                for taskID in taskIDs where collector.isActive(taskID) {
                    print("Task \(taskID) is active; not collecting it.")
                }
            }
            print("Deciding to garbage collect the following tasks:")
            if chosen.isEmpty { print("   None.") }
            for task in chosen { print("   \(task.taskID)") }
            if !chosen.isEmpty { plans.append((collector, chosen)) }
        }
        guard !plans.isEmpty else {
            print("No tasks to garbage collect.  Exiting")
            return
        }
        if !force && !dryRun {
            print("Continue [y/N]? ", terminator: "")
            fflush(nil)
            let answer = readLine()?.lowercased() ?? ""
            guard answer == "y" || answer == "yes" else {
                print("Cancelling gc.")
                return
            }
        }
        print(dryRun ? "Running gc (dry run)..." : "Running gc...")
        for (collector, tasks) in plans {
            for task in tasks {
                func word(_ delete: Bool) -> String { delete ? "deleting" : "keeping" }
                print("  Task \(task.taskID) data (\(word(policy.deleteData))) logs (\(word(policy.deleteLogs))) metadata (\(word(policy.deleteMetadata)))")
                collector.erase(task, policy: policy, dryRun: dryRun) { print($0) }
            }
        }
        print("done.")
    }

    private func kb(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1024) }
    private func mb(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1048576) }
}
