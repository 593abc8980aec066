import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos gc` through the real binary on temporary roots built from fixture records.
@Suite struct GcCommandTests {
    /// Three finished fixture tasks (oldest first: failure_limit, hello_world, ports) and one active.
    func makeRoot() throws -> (TemporaryDirectory, String) {
        let directory = TemporaryDirectory()
        let root = directory.path + "/root"
        let builder = TaskRootBuilder(root: root)
        let now = Double(time(nil))
        for (index, id) in ["failure_limit", "hello_world", "ports"].enumerated() {
            try builder.copyFixtureTask(id, from: TestPaths.auroraRoot, directory: .finished)
            TaskRootBuilder.setMtime(TaskPath.runnerCheckpoint(root: root, taskID: id), now - Double(3 - index) * 86400)
        }
        try builder.addSimpleTask("live", directory: .active, processes: [.init("p", .running)], finalState: nil)
        TaskRootBuilder.setMtime(TaskPath.runnerCheckpoint(root: root, taskID: "live"), now - 10 * 86400)
        return (directory, root)
    }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test func maxTasksDeletesTheOldestMetadata() throws {
        let (directory, root) = try makeRoot()
        defer { directory.remove() }
        let result = thermos(["gc", "--root", root, "--max-tasks", "1", "--delete-metadata", "--force"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Analyzing root at \(root)"))
        #expect(result.stdout.contains("Deciding to garbage collect the following tasks:\n   failure_limit\n   hello_world\n"))
        #expect(result.stdout.contains("  Task hello_world data (keeping) logs (keeping) metadata (deleting)"))
        #expect(result.stdout.contains("    deleted metadata \(root)/checkpoints/hello_world"))
        #expect(result.stdout.hasSuffix("done.\n"))
        #expect(!exists(root + "/tasks/finished/failure_limit"))
        #expect(!exists(root + "/checkpoints/hello_world"))
        #expect(exists(root + "/tasks/finished/ports"))
        #expect(exists(root + "/checkpoints/live/runner"))
        #expect(exists(root + "/tasks/active/live"))
    }

    @Test func maxAgeAndDryRun() throws {
        let (directory, root) = try makeRoot()
        defer { directory.remove() }
        let result = thermos(["gc", "--root", root, "--max-age", "1d12h", "--delete-metadata", "--dry-run"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("   failure_limit\n   hello_world\n"))
        #expect(!result.stdout.contains("   ports\n"))
        #expect(result.stdout.contains("    would delete metadata \(root)/tasks/finished/failure_limit"))
        #expect(!result.stdout.contains("Continue"))
        #expect(exists(root + "/tasks/finished/failure_limit"))
        #expect(exists(root + "/checkpoints/hello_world/runner"))
    }

    @Test func maxSpaceCountsDeletedKinds() throws {
        let (directory, root) = try makeRoot()
        defer { directory.remove() }
        // Each task's metadata is a few KB; 1 byte of budget collects all three finished tasks.
        let result = thermos(["gc", "--root", root, "--max-space", "1", "--delete-metadata", "--force"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("After size filter: 0 tasks"))
        #expect(!exists(root + "/tasks/finished/ports"))
        #expect(exists(root + "/tasks/active/live"))
    }

    @Test func withoutForceItAsksAndCancels() throws {
        let (directory, root) = try makeRoot()
        defer { directory.remove() }
        let result = thermos(["gc", "--root", root, "--max-tasks", "0", "--delete-metadata"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Continue [y/N]? Cancelling gc."))
        #expect(exists(root + "/tasks/finished/failure_limit"))
    }

    @Test func defaultsDeleteNothingAndActiveTasksAreRefused() throws {
        let (directory, root) = try makeRoot()
        defer { directory.remove() }
        let keep = thermos(["gc", "--root", root, "--max-tasks", "0", "--force"])
        #expect(keep.stdout.contains("data (keeping) logs (keeping) metadata (keeping)"))
        #expect(exists(root + "/tasks/finished/failure_limit"))
        let named = thermos(["gc", "--root", root, "live", "--delete-metadata", "--force"])
        #expect(named.stdout.contains("Task live is active; not collecting it."))
        #expect(named.stdout.contains("No tasks to garbage collect.  Exiting"))
        #expect(exists(root + "/checkpoints/live/runner"))
        let byName = thermos(["gc", "--root", root, "hello", "--delete-metadata", "--force"])
        #expect(byName.stdout.contains("   hello_world\n"))
        #expect(!exists(root + "/tasks/finished/hello_world"))
        #expect(exists(root + "/tasks/finished/ports"))
    }

    @Test func badAmountsAreUsageErrors() {
        let age = thermos("gc", "--root", "/nonexistent", "--max-age", "soon")
        #expect(age.status == 2)
        #expect(age.stderr.contains("Invalid time: soon"))
        let space = thermos("gc", "--root", "/nonexistent", "--max_space", "lots")
        #expect(space.status == 2)
        #expect(space.stderr.contains("Invalid data size: lots"))
    }
}
