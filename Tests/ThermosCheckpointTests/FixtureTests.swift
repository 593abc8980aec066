import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// The 2012 Aurora fixture root decodes to exactly the histories of reference §2.5.
@Suite struct FixtureTests {
    static let taskIDs = ["hello_world", "failure", "failure_limit", "ordering", "ports", "sleep60", "sleep60-lost"]

    func replay(_ taskID: String) throws -> RunnerState {
        let path = TaskPath.runnerCheckpoint(root: TestPaths.auroraRoot, taskID: taskID)
        let (state, stream) = try RunnerState.replaying(path: path)
        #expect(stream.tail == .clean, "fixture \(taskID) ends with a torn record")
        return state
    }

    /// `process: [STATE rc, ...]` for every process, in first-appearance order.
    func histories(_ state: RunnerState) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (name, runs) in state.processes {
            result[name] = runs.map { run in
                "\(run.state?.name ?? "None")" + (run.returnCode.map { " rc=\($0)" } ?? "")
            }
        }
        return result
    }

    func taskStates(_ state: RunnerState) -> [String] {
        state.statuses.map { "\($0.state?.name ?? "None")@\($0.runnerPid ?? 0)" }
    }

    @Test func helloWorld() throws {
        let state = try replay("hello_world")
        let header = try #require(state.header)
        #expect(header.taskID == "hello_world")
        #expect(header.launchTimeMs == 1_337_097_943_035)
        #expect(header.sandbox == "/tmp/thermos.kfezsG/sandbox")
        #expect(header.hostname == "wickman-2.local")
        #expect(header.user == "wickman")
        #expect(header.ports == [:])
        #expect(header.logDir == nil)
        #expect(header.uid == nil)
        #expect(taskStates(state) == ["ACTIVE@43477", "SUCCESS@43477"])
        #expect(state.statuses.map(\.timestampMs) == [1_337_097_943_036, 1_337_097_945_490])
        #expect(state.statuses.allSatisfy { $0.runnerUid == 501 })
        #expect(histories(state) == ["echo": ["SUCCESS rc=0"]])
        let run = try #require(state.processes["echo"]?.first)
        #expect(run.seq == 3)
        #expect(run.coordinatorPid == 43478)
        #expect(run.forkTime == 1_337_097_943.293865)
        #expect(run.pid == 43479)
        #expect(run.startTime == 1_337_097_943.406474)
        #expect(run.stopTime == 1_337_097_943.420024)
    }

    @Test func failureRetriesUntilSuccess() throws {
        let state = try replay("failure")
        #expect(state.header?.launchTimeMs == 1_337_097_948_131)
        #expect(taskStates(state) == ["ACTIVE@43480", "SUCCESS@43480"])
        #expect(state.statuses.last?.timestampMs == 1_337_097_956_001)
        #expect(Array(state.processes.keys) == ["p2", "p3", "p1"])
        #expect(histories(state) == [
            "p1": ["SUCCESS rc=0"],
            "p2": ["FAILED rc=1", "SUCCESS rc=0"],
            "p3": ["FAILED rc=1", "FAILED rc=1", "SUCCESS rc=0"],
        ])
        // FAILED runs keep their stop time (our fix of the final original's replay bug).
        #expect(state.processes["p2"]?.first?.stopTime == 1_337_097_948.848738)
        #expect(state.processes["p3"]?.last?.pid == 43522)
        #expect(state.processes["p3"]?.last?.seq == 11)
        #expect(state.processes["p1"]?.first?.coordinatorPid == 43497)
    }

    @Test func failureLimitDeadlocks() throws {
        let state = try replay("failure_limit")
        #expect(taskStates(state) == ["ACTIVE@43529", "FAILED@43529"])
        #expect(histories(state) == ["a": ["SUCCESS rc=0"], "b": ["FAILED rc=1"]])
        #expect(state.processes["c"] == nil)
        #expect(state.processes["b"]?.first?.pid == 43533)
    }

    @Test func orderingRunsInSequence() throws {
        let state = try replay("ordering")
        #expect(taskStates(state) == ["ACTIVE@43535", "SUCCESS@43535"])
        #expect(Array(state.processes.keys) == ["echo_one", "echo_two", "echo_three"])
        #expect(histories(state) == [
            "echo_one": ["SUCCESS rc=0"], "echo_two": ["SUCCESS rc=0"], "echo_three": ["SUCCESS rc=0"],
        ])
        let one = try #require(state.processes["echo_one"]?.first)
        let two = try #require(state.processes["echo_two"]?.first)
        let three = try #require(state.processes["echo_three"]?.first)
        #expect(one.coordinatorPid == 43536 && two.coordinatorPid == 43546 && three.coordinatorPid == 43557)
        #expect(one.stopTime == 1_337_098_025.338334)
        #expect(two.forkTime == 1_337_098_027.462959)
        #expect(two.stopTime == 1_337_098_087.490062)
        #expect(three.stopTime == 1_337_098_149.255703)
        #expect(one.stopTime! < two.forkTime! && two.stopTime! < three.forkTime!)
    }

    @Test func portsAreInTheHeader() throws {
        let state = try replay("ports")
        #expect(state.header?.ports.map { Array($0.keys) } == ["world", "hello"], "Python dict order as stored")
        #expect(state.header?.ports?["hello"] == 50000)
        #expect(state.header?.ports?["world"] == 50001)
        #expect(taskStates(state) == ["ACTIVE@43567", "SUCCESS@43567"])
        #expect(histories(state) == ["echo": ["SUCCESS rc=0"]])
        #expect(state.processes["echo"]?.first?.coordinatorPid == 43569)
    }

    @Test func sleep60WasKilledByASecondProcess() throws {
        let state = try replay("sleep60")
        #expect(taskStates(state) == ["ACTIVE@43573", "ACTIVE@43580", "KILLED@43580"])
        #expect(histories(state) == ["sleep": ["KILLED rc=-1"]])
        let run = try #require(state.processes["sleep"]?.first)
        #expect(run.pid == 43575)
        #expect(run.stopTime == 1_337_098_162.561089)
    }

    @Test func sleep60LostIsStillActive() throws {
        let state = try replay("sleep60-lost")
        #expect(state.header?.sandbox == "tests/resources/com/twitter/thermos/root/sandbox")
        #expect(state.header?.hostname == "tw-172-16-146-121.office.twttr.net")
        #expect(taskStates(state) == ["ACTIVE@31422"])
        #expect(state.taskState == .active)
        #expect(histories(state) == ["sleep": ["RUNNING"]])
        #expect(state.processes["sleep"]?.first?.pid == 31424)
    }

    @Test(arguments: taskIDs)
    func coordinatorStreamsHoldForkedRunningAndTerminalRecords(_ taskID: String) throws {
        let state = try replay(taskID)
        for (name, runs) in state.processes {
            let path = TaskPath.processCheckpoint(root: TestPaths.auroraRoot, taskID: taskID, process: name)
            let stream = try CheckpointReader.read(path: path)
            #expect(stream.tail == .clean)
            let states: [ProcessState] = stream.records.compactMap {
                if case .processStatus(let status) = $0 { return status.state }
                return nil
            }
            #expect(!states.contains(.waiting), "WAITING is never in a coordinator stream")
            let forks = states.filter { $0 == .forked }.count
            #expect(forks == runs.filter { $0.forkTime != nil }.count, "\(taskID)/\(name): one FORKED per run")
        }
    }

    @Test(arguments: taskIDs)
    func reEncodingReproducesTheOriginalBytes(_ taskID: String) throws {
        let directory = TaskPath.checkpointDirectory(root: TestPaths.auroraRoot, taskID: taskID)
        let listing = CommandRunner.run(["ls", directory]).stdout.split(separator: "\n")
        #expect(listing.contains("runner"))
        for file in listing {
            let path = "\(directory)/\(file)"
            let original = try #require(readBytes(path))
            let stream = try CheckpointReader.read(path: path)
            var reencoded: [UInt8] = []
            for entry in stream.entries {
                let payload = entry.record.thriftPayload()
                #expect(payload == entry.payload, "\(path) record at \(entry.offset) re-encodes differently")
                reencoded += try RecordFraming.frame(payload)
            }
            #expect(reencoded == original, "\(path) re-encodes differently")
        }
    }
}
