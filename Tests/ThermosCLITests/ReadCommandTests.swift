import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos read` through the real binary.
@Suite struct ReadCommandTests {
    let root = TestPaths.auroraRoot

    @Test func replaysAFixtureWithFailedReturnCodes() {
        let result = thermos("read", root + "/checkpoints/failure/runner")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            Recovered Task Header:
              id:      failure
              user:    wickman
              host:    wickman-2.local
              sandbox: /tmp/thermos.kfezsG/sandbox
            Recovered Task States:
              Tue May 15 16:05:48 2012 [pid: 43480] => ACTIVE
              Tue May 15 16:05:56 2012 [pid: 43480] => SUCCESS
            Recovered Processes:
              p2   runs: 2
                 1: pid=43507, rc=0, finish:Tue May 15 16:05:51 2012, state:SUCCESS
                 0: pid=43484, rc=1, finish:Tue May 15 16:05:48 2012, state:FAILED
              p3   runs: 3
                 2: pid=43522, rc=0, finish:Tue May 15 16:05:53 2012, state:SUCCESS
                 1: pid=43508, rc=1, finish:Tue May 15 16:05:51 2012, state:FAILED
                 0: pid=43483, rc=1, finish:Tue May 15 16:05:48 2012, state:FAILED
              p1   runs: 1
                 0: pid=43498, rc=0, finish:Tue May 15 16:05:49 2012, state:SUCCESS

            """)
    }

    @Test func acceptsATaskIDAndShowsPorts() {
        let result = thermos("read", "--root", root, "ports")
        #expect(result.status == 0)
        #expect(result.stdout.contains("  ports:   world->50001 hello->50000\n"))
        #expect(result.stdout.contains("  Tue May 15 16:09:16 2012 [pid: 43580] => KILLED") == false)
        let killed = thermos("read", "--root", root, "sleep60")
        #expect(killed.stdout.contains("  Tue May 15 16:09:22 2012 [pid: 43580] => KILLED\n"))
        #expect(killed.stdout.contains("     0: pid=43575, rc=-1, finish:Tue May 15 16:09:22 2012, state:KILLED"))
    }

    @Test func simplePrintsEveryRecord() {
        let result = thermos("read", "--simple", root + "/checkpoints/hello_world/runner")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 7)
        #expect(lines.allSatisfy { $0.hasPrefix("CKPT: RunnerCkpt(") })
        #expect(lines[0] == "CKPT: RunnerCkpt(runner_header=None, process_status=None, task_status=TaskStatus(state=0, timestamp_ms=1337097943036, runner_pid=43477, runner_uid=501))")
    }

    @Test func simpleJSONMatchesThePythonReader() {
        for task in ["hello_world", "failure", "ports", "sleep60"] {
            let path = root + "/checkpoints/\(task)/runner"
            let ours = thermos("read", "--simple", "--json", path)
            let python = CommandRunner.run(["python3", TestPaths.pythonReader, path])
            #expect(ours.status == 0 && python.status == 0)
            #expect(ours.stdout.replacingSpaces() == python.stdout.replacingSpaces(), "\(task)")
        }
    }

    @Test func tornTailIsAWarningNotAFailure() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let original = try #require(readBytes(root + "/checkpoints/hello_world/runner"))
        let path = directory.write("runner", Array(original.dropLast(7)))
        let result = thermos("read", path)
        #expect(result.status == 0)
        #expect(result.stderr.contains("torn last record at byte 364"))
        #expect(result.stdout.contains("=> ACTIVE"))
        #expect(!result.stdout.contains("=> SUCCESS"))
    }

    @Test func badInputGivesOneLineErrors() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let garbage = directory.write("garbage", [0, 0, 0, 4, 0x0C, 0x00, 0x03, 0x99])
        let result = thermos("read", garbage)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Failed to recover from \(garbage): "))
        #expect(result.stderr.split(separator: "\n").count == 1)

        let huge = directory.write("huge", [0x7F, 0, 0, 0, 1, 2, 3])
        let oversized = thermos("read", huge)
        #expect(oversized.status == 1)
        #expect(oversized.stderr.contains("over the 64 MiB RecordIO limit"))

        let missing = thermos("read", "--root", directory.path, "nope")
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("Could not find nope"))

        let noHeader = directory.write("noheader", try! RecordFraming.frame(RunnerCkpt.taskStatus(TaskStatus(state: .active)).thriftPayload()))
        let outdated = thermos("read", noHeader)
        #expect(outdated.status == 1)
        #expect(outdated.stderr == "Checkpoint stream CORRUPT or outdated format\n")
    }
}

extension String {
    /// JSON text with insignificant spaces removed (the two writers space differently).
    func replacingSpaces() -> String {
        filter { $0 != " " }
    }
}
