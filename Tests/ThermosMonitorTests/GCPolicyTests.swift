import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport
@testable import ThermosMonitor

/// GC amounts, the ranking and each policy, and erasing without following links.
@Suite struct GCPolicyTests {
    func task(_ id: String, age: Int64, size: Int64 = 100, state: TaskState = .success) -> GCCandidate {
        GCCandidate(root: "/r", taskID: id, age: age, metadataSize: 10, logSize: 20, dataSize: size, state: state, sandbox: nil, logBase: "/l")
    }

    @Test func amounts() throws {
        #expect(try Amounts.parseTime("2d5h") == 2 * 86400 + 5 * 3600)
        #expect(try Amounts.parseTime("7200s") == 7200)
        #expect(try Amounts.parseTime("1h30m") == 5400)
        #expect(try Amounts.parseTime("90") == 90)
        for bad in ["", "5x", "h", "5h2d", "1.5h", "-3"] {
            #expect(throws: AmountError.self) { try Amounts.parseTime(bad) }
        }
        #expect(try Amounts.parseData("1024") == 1024)
        #expect(try Amounts.parseData("5k") == 5120)
        #expect(try Amounts.parseData("2MB") == 2 << 20)
        #expect(try Amounts.parseData("1g") == 1 << 30)
        #expect(try Amounts.parseData("1Tb") == 1 << 40)
        for bad in ["", "mb", "1.5g", "12q", "-1"] {
            #expect(throws: AmountError.self) { try Amounts.parseData(bad) }
        }
    }

    @Test func defaultsCollectNothing() {
        let tasks = (0..<5).map { task("t\($0)", age: Int64($0) * 1000) }
        #expect(GarbageCollector.select(tasks, policy: GCPolicy()).isEmpty)
    }

    @Test func ageFilter() {
        var policy = GCPolicy()
        policy.maxAge = 3600
        let chosen = GarbageCollector.select([task("new", age: 60), task("old", age: 7200), task("edge", age: 3600)], policy: policy)
        #expect(chosen.map(\.taskID) == ["old"])
    }

    @Test func countFilterDropsTheOldest() {
        var policy = GCPolicy()
        policy.maxTasks = 2
        let tasks = [task("a", age: 10), task("b", age: 30), task("c", age: 20), task("d", age: 40)]
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["d", "b"])
        policy.maxTasks = 0
        #expect(GarbageCollector.select(tasks, policy: policy).count == 4)
    }

    @Test func spaceFilterKeepsTheNewest() {
        var policy = GCPolicy()
        policy.maxSpace = 250
        let tasks = [task("a", age: 10), task("b", age: 20), task("c", age: 30), task("d", age: 40)]
        // 400 bytes of data: the two oldest go.
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["d", "c"])
        // Metadata and logs count when they are deleted too: 130 per task.
        policy.deleteLogs = true
        policy.deleteMetadata = true
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["d", "c", "b"])
        policy.maxSpace = 259
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["d", "c", "b"])
        policy.maxSpace = 260
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["d", "c"])
        policy.maxSpace = 390
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["d"])
    }

    @Test func failedTasksAreKeptLongestAmongEquals() {
        var policy = GCPolicy()
        policy.maxTasks = 2
        let tasks = [task("failed", age: 50, state: .failed), task("ok", age: 50), task("lost", age: 50, state: .lost), task("young", age: 1)]
        #expect(GarbageCollector.select(tasks, policy: policy).map(\.taskID) == ["ok", "failed"])
    }

    @Test func eraseNeverFollowsLinksOutOfTheSandbox() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let outside = directory.write("outside/precious", "keep me")
        let root = directory.path + "/root"
        let builder = TaskRootBuilder(root: root)
        let (sandbox, _) = try builder.addSimpleTask("t", directory: .finished, processes: [.init("p", .failed, returnCode: 1)], finalState: .failed, sandboxBytes: 4096)
        symlink(directory.path + "/outside", sandbox + "/escape")
        symlink(outside, sandbox + "/file-link")
        let collector = GarbageCollector(root: root)
        var policy = GCPolicy()
        policy.deleteData = true
        policy.deleteLogs = true
        policy.deleteMetadata = true
        let candidate = collector.candidate("t")
        #expect(candidate.state == .failed)
        #expect(candidate.dataSize >= 4096)
        var lines: [String] = []
        collector.erase(candidate, policy: policy, dryRun: true) { lines.append($0) }
        #expect(lines.count == 3)  // data (logs are inside it) + two metadata paths
        #expect(access(sandbox, F_OK) == 0)
        lines = []
        collector.erase(candidate, policy: policy, dryRun: false) { lines.append($0) }
        #expect(lines.count == 3)
        #expect(access(sandbox, F_OK) != 0)
        #expect(access(root + "/checkpoints/t", F_OK) != 0)
        #expect(access(root + "/tasks/finished/t", F_OK) != 0)
        #expect(readBytes(outside) == Array("keep me".utf8))
    }

    @Test func activeTasksAreNeverErased() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        try builder.addSimpleTask("t", directory: .finished, processes: [.init("p", .success, returnCode: 0)], finalState: .success)
        let collector = GarbageCollector(root: directory.path)
        let candidate = collector.candidate("t")
        // The task became active again (a file in tasks/active): it must be left alone.
        builder.makeDirectories(directory.path + "/tasks/active")
        builder.writeFile(directory.path + "/tasks/active/t", Array("{}".utf8))
        var policy = GCPolicy()
        policy.deleteMetadata = true
        var lines: [String] = []
        #expect(collector.erase(candidate, policy: policy, dryRun: false) { lines.append($0) }.isEmpty)
        #expect(lines == ["    task t is active; not collecting it"])
        #expect(collector.finishedTasks().isEmpty)
        #expect(access(directory.path + "/checkpoints/t/runner", F_OK) == 0)
    }

    @Test func sandboxContainingTheRootIsRefused() {
        let collector = GarbageCollector(root: "/var/run/thermos")
        #expect(!collector.isSafeToDelete("/"))
        #expect(!collector.isSafeToDelete("/var/run"))
        #expect(!collector.isSafeToDelete("relative"))
        #expect(collector.isSafeToDelete("/var/lib/thermos/sandbox/t"))
    }
}
