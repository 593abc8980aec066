import Testing
import ThermosTestSupport

/// `thermos status` through the real binary, on the Aurora fixture root.
@Suite struct StatusCommandTests {
    let root = TestPaths.auroraRoot

    @Test func verbosity3ShowsEveryTaskWithItsState() {
        let result = thermos("status", "--root", root, "--verbosity", "3")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "Active tasks:")
        #expect(lines.contains("Finished tasks:"))
        let expectedStates = [
            "sleep60-lost": "ACTIVE", "failure": "SUCCESS", "failure_limit": "FAILED", "hello_world": "SUCCESS",
            "ordering": "SUCCESS", "ports": "SUCCESS", "sleep60": "KILLED",
        ]
        for (taskID, state) in expectedStates {
            let line = lines.first { $0.hasPrefix("  \(taskID) ") }
            #expect(line?.contains("  state: \(state.padded(8)) start: ") == true, "\(taskID): \(line ?? "missing")")
        }
        #expect(lines.contains("  hello_world          [owner: \(ownerOfFixtures().padded(8))]  state:  SUCCESS start:  Tue May 15 16:05:43 2012"))
        #expect(lines.contains("    user: wickman ports: world -> 50001 hello -> 50000"))
        #expect(lines.contains("    sandbox: tests/resources/com/twitter/thermos/root/sandbox"))
        #expect(lines.contains("      - sleep runs: 1 last: pid=31424, rc=, finish:None, state:RUNNING"))
        #expect(lines.contains("      - b runs: 1 last: pid=43533, rc=1, finish:Tue May 15 16:06:00 2012, state:FAILED"))
        #expect(lines.contains("      - sleep runs: 1 last: pid=43575, rc=-1, finish:Tue May 15 16:09:22 2012, state:KILLED"))
        // Stable process order: first appearance in the stream.
        let failure = lines.firstIndex { $0.hasPrefix("  failure ") }!
        #expect(Array(lines[(failure + 4)...(failure + 6)].map { $0.split(separator: " ")[1] }) == ["p2", "p3", "p1"])
    }

    @Test func verbosity0ListsIdsOnly() {
        let result = thermos("status", "--root", root)
        #expect(result.status == 0)
        let owner = ownerOfFixtures().padded(8)
        #expect(result.stdout == """
            Active tasks:
              sleep60-lost         [owner: \(owner)]
                runner not running — `thermos run` the same task id to resume

            Finished tasks:
              failure              [owner: \(owner)]
              failure_limit        [owner: \(owner)]
              hello_world          [owner: \(owner)]
              ordering             [owner: \(owner)]
              ports                [owner: \(owner)]
              sleep60              [owner: \(owner)]


            """)
    }

    @Test func patternsMatchAtTheStartAndOnlyFilters() {
        let result = thermos("status", "--root", root, "--only", "finished", "sleep", "hello")
        #expect(result.status == 0)
        #expect(result.stdout.contains("  sleep60 "))
        #expect(result.stdout.contains("  hello_world "))
        #expect(!result.stdout.contains("sleep60-lost"))
        #expect(!result.stdout.contains("failure"))
        #expect(!thermos("status", "--root", root, "world").stdout.contains("hello_world"))
    }

    @Test func nothingFoundExitsOne() {
        let result = thermos("status", "--root", root, "no_such_task")
        #expect(result.status == 1)
        #expect(result.stderr == "No tasks found.\n")
        let empty = TemporaryDirectory()
        defer { empty.remove() }
        #expect(thermos(["status"], environment: ["THERMOS_ROOT": empty.path]).status == 1)
    }

    @Test func jsonListsReplayedTasks() {
        let result = thermos("status", "--root", root, "--json", "failure_limit")
        #expect(result.status == 0)
        #expect(result.stdout.contains(#""task_id" : "failure_limit""#))
        #expect(result.stdout.contains(#""state" : "FAILED""#))
        #expect(result.stdout.contains(#""return_code" : 1"#))
    }

    @Test func corruptStreamIsFlaggedAndOthersStillShown() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("tasks/finished/broken", "{}")
        directory.write("checkpoints/broken/runner", [0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        directory.write("tasks/finished/empty", "{}")
        let result = thermos("status", "--root", directory.path, "--verbosity", "1")
        #expect(result.status == 0)
        #expect(result.stdout.contains("  broken               [owner: "))
        #expect(result.stdout.contains("] - checkpoint stream CORRUPT or outdated format"))
        #expect(result.stdout.contains("  empty "))
    }

    @Test func badPatternIsAClearError() {
        let result = thermos("status", "--root", root, "(")
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("Invalid task pattern"))
    }
}

func ownerOfFixtures() -> String {
    let result = CommandRunner.run(["stat", "-c", "%U", TestPaths.auroraRoot + "/checkpoints/hello_world/runner"])
    return result.stdout.trimmingSuffix()
}

extension String {
    func padded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }

    func trimmingSuffix() -> String {
        var copy = self
        while copy.last?.isWhitespace == true { copy.removeLast() }
        return copy
    }
}
