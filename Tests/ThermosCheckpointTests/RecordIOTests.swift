import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// RecordIO framing, readers that tolerate torn tails, the tailer, and the writer.
@Suite struct RecordIOTests {
    let records: [RunnerCkpt] = [
        .taskStatus(TaskStatus(state: .active, timestampMs: 1000, runnerPid: 10, runnerUid: 0)),
        .runnerHeader(RunnerHeader(taskID: "t", launchTimeMs: 999, sandbox: "/s", hostname: "h", user: "u", ports: ["http": 80], logDir: "/s/.logs", uid: 0)),
        .processStatus(ProcessStatus(seq: 0, process: "p", state: .waiting)),
        .processStatus(ProcessStatus(seq: 1, process: "p", state: .forked, coordinatorPid: 11, forkTime: 1.25)),
    ]

    func framed(_ records: [RunnerCkpt]) throws -> [UInt8] {
        try records.flatMap { try RecordFraming.frame($0.thriftPayload()) }
    }

    @Test func tornTailIsReportedNotThrown() throws {
        let bytes = try framed(records)
        for cut in 1..<7 {
            let stream = try CheckpointReader.decode(Array(bytes.dropLast(cut)), path: "runner")
            #expect(stream.records == Array(records.dropLast()))
            guard case .torn(let offset, _, _) = stream.tail else {
                Issue.record("expected a torn tail after cutting \(cut) bytes")
                continue
            }
            #expect(offset == stream.validLength)
            #expect(stream.tailWarning?.contains("torn last record") == true)
        }
        let headerOnly = try CheckpointReader.decode(Array(bytes.prefix(2)))
        #expect(headerOnly.records.isEmpty)
        #expect(headerOnly.tail == .torn(offset: 0, available: 2, expected: 4))
    }

    @Test func oversizedRecordIsAClearError() {
        let bytes: [UInt8] = [0x04, 0x00, 0x00, 0x01] + [UInt8](repeating: 0, count: 16)
        do {
            _ = try CheckpointReader.decode(bytes, path: "/x/runner")
            Issue.record("an oversized record was accepted")
        } catch {
            #expect(error.code == .recordTooLarge)
            #expect(error.description.hasPrefix("/x/runner: record at byte 0:"))
            #expect(error.description.contains("64 MiB"))
        }
        #expect(throws: CheckpointError.self) {
            try RecordFraming.frame([UInt8](repeating: 0, count: RecordFraming.maximumRecordSize + 1))
        }
    }

    @Test func garbageIsAnErrorNamingFileAndOffset() throws {
        let bytes = try framed(Array(records.prefix(1))) + [0, 0, 0, 3, 0xFF, 0xFF, 0xFF]
        do {
            _ = try CheckpointReader.decode(bytes, path: "/r")
            Issue.record("garbage was accepted")
        } catch {
            #expect(error.path == "/r")
            #expect(error.offset == 41)
        }
    }

    @Test func tailerReturnsOnlyCompleteRecordsAndNeverRereads() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/runner"
        var tailer = CheckpointTailer(path: path)
        #expect(try tailer.poll().isEmpty, "missing file yields nothing")
        let bytes = try framed(records)
        let firstTwo = try RecordFraming.frame(records[0].thriftPayload()).count
            + RecordFraming.frame(records[1].thriftPayload()).count
        directory.write("runner", Array(bytes.prefix(firstTwo + 3)))
        #expect(try tailer.poll() == Array(records.prefix(2)))
        #expect(tailer.offset == firstTwo)
        #expect(try tailer.poll().isEmpty)
        directory.write("runner", bytes)
        #expect(try tailer.poll() == Array(records.suffix(2)))
        #expect(tailer.offset == bytes.count)
    }

    @Test(arguments: SyncPolicy.allCases)
    func writerAppendsRecordsReadableByUs(_ policy: SyncPolicy) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/runner"
        let writer = try CheckpointWriter(path: path, policy: policy)
        try writer.append(records[0])
        try writer.append(contentsOf: Array(records.dropFirst()))
        try writer.sync()
        try writer.close()
        let stream = try CheckpointReader.read(path: path)
        #expect(stream.records == records)
        #expect(stream.tail == .clean)
    }

    @Test func writerTruncatesATornTailBeforeAppending() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let bytes = try framed(records)
        let path = directory.write("runner", Array(bytes.dropLast(5)))
        let writer = try CheckpointWriter(path: path, policy: .always)
        try writer.append(records[3])
        try writer.close()
        let stream = try CheckpointReader.read(path: path)
        #expect(stream.tail == .clean)
        #expect(stream.records == records)
    }

    @Test func secondLockingWriterIsRefusedAndChangesNothing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/runner"
        let owner = try CheckpointWriter(path: path, lock: true)
        try owner.append(records[0])
        do {
            let intruder = try CheckpointWriter(path: path, lock: true)
            try intruder.append(records[1])
            Issue.record("a second writer took the lock")
        } catch {
            #expect(error.code == .io)
            #expect(error.description.contains("locked by another process"))
        }
        #expect(try CheckpointReader.read(path: path).records == [records[0]])
        try owner.close()
        // Other suites of this test process spawn children all the time, and a child between its
        // clone and its exec holds a copy of every fd (close-on-exec ones included), so the
        // released lock can stay held for a few milliseconds: retry for up to 5 s.
        try Self.lockWhenReleased(path: path).close()
    }

    /// A locking writer for `path`, retried for up to 5 s while a lock just released is still held.
    static func lockWhenReleased(path: String) throws -> CheckpointWriter {
        let deadline = 500
        var attempt = 0
        while true {
            do {
                return try CheckpointWriter(path: path, lock: true)
            } catch {
                attempt += 1
                guard attempt < deadline, error.description.contains("locked by another process") else { throw error }
                usleep(10_000)
            }
        }
    }

    @Test func writerNamesTheFileWhenItCannotOpen() {
        do {
            _ = try CheckpointWriter(path: "/nonexistent-dir/runner")
            Issue.record("opened a file in a missing directory")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent-dir/runner: cannot open for appending"))
        }
    }
}
