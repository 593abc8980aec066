import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Encoding rules of TBinaryProtocol as Thermos uses it, and robustness of the decoder.
@Suite struct ThriftCodecTests {
    @Test func randomRecordsRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x7E57_C0DE)
        for _ in 0..<5000 {
            let record = RandomRecords.record(&rng)
            let decoded = try RunnerCkpt(thriftPayload: record.thriftPayload())
            #expect(decoded == record)
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var rng = SeededGenerator(seed: 42)
        var decodedCount = 0
        for _ in 0..<20000 {
            let count = Int.random(in: 0...80, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Bias towards plausible prefixes so the decoder gets past the first byte often.
            if Bool.random(using: &rng), !bytes.isEmpty { bytes[0] = [12, 11, 8, 13, 15, 0].randomElement(using: &rng)! }
            if (try? RunnerCkpt(thriftPayload: bytes)) != nil { decodedCount += 1 }
        }
        #expect(decodedCount < 20000)
    }

    @Test func mutatedValidRecordsNeverCrashTheDecoder() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<5000 {
            var bytes = RandomRecords.record(&rng).thriftPayload()
            let flips = Int.random(in: 1...4, using: &rng)
            for _ in 0..<flips where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng), !bytes.isEmpty { bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng)) }
            _ = try? RunnerCkpt(thriftPayload: bytes)
        }
    }

    @Test func fieldsAreWrittenInAscendingIDOrderAndOnlyWhenSet() {
        let header = RunnerCkpt.runnerHeader(RunnerHeader(taskID: "t", ports: [:], logDir: "/l", uid: 0))
        // RunnerCkpt field 1 struct; ids 1, 6 (empty map), 7, 8; then two STOPs.
        #expect(header.thriftPayload() == [
            12, 0, 1,
            11, 0, 1, 0, 0, 0, 1, 0x74,
            13, 0, 6, 11, 10, 0, 0, 0, 0,
            11, 0, 7, 0, 0, 0, 2, 0x2F, 0x6C,
            8, 0, 8, 0, 0, 0, 0,
            0, 0,
        ])
    }

    @Test func taskStatusPayloadIs37Bytes() {
        let status = RunnerCkpt.taskStatus(TaskStatus(state: .active, timestampMs: 1, runnerPid: 2, runnerUid: 3))
        #expect(status.thriftPayload().count == 37)
    }

    @Test func processStatusSizesMatchTheReference() {
        let waiting = RunnerCkpt.processStatus(ProcessStatus(seq: 0, process: "echo", state: .waiting))
        let forked = RunnerCkpt.processStatus(
            ProcessStatus(seq: 1, process: "echo", state: .forked, coordinatorPid: 1, forkTime: 1.5))
        #expect(waiting.thriftPayload().count == 34)
        #expect(forked.thriftPayload().count == 52)
    }

    @Test func readerAcceptsAnyFieldOrderAndSkipsUnknownFieldsOfEveryType() throws {
        // TaskStatus with fields 4, 99 (list<struct>), 2, 98 (map<i16,double>), 97 (bool), 96 (byte), 1.
        let payload: [UInt8] = [
            12, 0, 3,
            8, 0, 4, 0, 0, 0, 7,
            15, 0, 99, 12, 0, 0, 0, 2, 0, 3, 0, 1, 1, 0,
            10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9,
            13, 0, 98, 6, 4, 0, 0, 0, 1, 0, 1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0,
            2, 0, 97, 1,
            3, 0, 96, 5,
            8, 0, 1, 0, 0, 0, 6,
            0,
            14, 0, 50, 11, 0, 0, 0, 1, 0, 0, 0, 0,
            0,
        ]
        let record = try RunnerCkpt(thriftPayload: payload)
        #expect(record == .taskStatus(TaskStatus(state: .finalizing, timestampMs: 9, runnerUid: 7)))
    }

    @Test func unknownEnumValuesSurviveARoundTrip() throws {
        let record = RunnerCkpt.processStatus(ProcessStatus(seq: 1, process: "p", state: .unknown(42)))
        let decoded = try RunnerCkpt(thriftPayload: record.thriftPayload())
        #expect(decoded == record)
        #expect(ProcessState(rawValue: 42).name == "UNKNOWN(42)")
        #expect(TaskState(rawValue: -3) == .unknown(-3))
    }

    @Test func emptyAndDoubleUnionsAreRejected() {
        #expect(throws: CheckpointError.self) { try RunnerCkpt(thriftPayload: [0]) }
        let twoMembers: [UInt8] = [12, 0, 3, 0, 12, 0, 3, 0, 0]
        #expect(throws: CheckpointError.self) { try RunnerCkpt(thriftPayload: twoMembers) }
    }

    @Test func truncatedPayloadIsAnErrorNamingTheProblem() {
        let payload = RunnerCkpt.taskStatus(TaskStatus(state: .active, timestampMs: 5)).thriftPayload()
        do {
            _ = try RunnerCkpt(thriftPayload: Array(payload.dropLast(6)))
            Issue.record("decoding a truncated payload succeeded")
        } catch {
            #expect(error.code == .truncatedPayload)
            #expect(error.description.contains("ends early"))
        }
    }
}
