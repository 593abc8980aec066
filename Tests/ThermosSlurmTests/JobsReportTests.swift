import Foundation
import Testing
import ThermosSlurm

@Suite struct JobsReportTests {
    func record(_ id: Int, instances: Int) -> JobRecord {
        JobRecord(jobID: id, name: "hello", nonce: "n", instances: instances, root: "/r", sandboxRoot: "/r/sandbox",
                  directory: "/r/s", submittedAt: 1, observerPort: 1338)
    }

    @Test func rowsJoinSqueueAndTaskStates() {
        let squeue = [
            SqueueRow(arrayJobID: 5, instance: 0, elementID: "5_0", state: "RUNNING", nodes: "n1"),
            SqueueRow(arrayJobID: 5, instance: 1, elementID: "5_1", state: "PENDING", nodes: ""),
        ]
        let rows = JobsReport.rows(records: [record(5, instances: 2)], squeue: squeue, observerPort: { _ in 1338 }) { _, rows in
            #expect(rows.map(\.taskID) == ["hello.5.0.n", "hello.5.1.n"])
            return ["hello.5.0.n": (state: "ACTIVE", host: "n1")]
        }
        #expect(rows.count == 2)
        #expect(rows[0] == InstanceRow(jobID: 5, instance: 0, node: "n1", slurmState: "RUNNING", taskID: "hello.5.0.n", state: "ACTIVE",
                                       observer: "http://n1:1338/task/hello.5.0.n"))
        #expect(rows[1] == InstanceRow(jobID: 5, instance: 1, node: nil, slurmState: "PENDING", taskID: "hello.5.1.n", state: nil, observer: nil))
    }

    @Test func aJobSlurmForgotFollowsItsTaskAndItsLastSighting() {
        var forgotten = record(6, instances: 3)
        forgotten.lastSeen = ["0": .init(node: "n2", slurmState: "RUNNING"), "2": .init(node: nil, slurmState: "CANCELLED")]
        let rows = JobsReport.rows(records: [forgotten], squeue: [], observerPort: { _ in 9 }) { _, _ in
            ["hello.6.0.n": (state: "SUCCESS", host: "n2"), "hello.6.1.n": (state: "KILLED", host: "n3")]
        }
        #expect(rows.map(\.slurmState) == ["COMPLETED", "FAILED", "CANCELLED"])
        #expect(rows.map(\.node) == ["n2", "n3", nil])
        #expect(rows.map(\.state) == ["SUCCESS", "KILLED", nil])
        #expect(rows[1].observer == "http://n3:9/task/hello.6.1.n")
    }

    @Test func selectionKeepsOnlyTheNamedInstances() {
        let rows = JobsReport.rows(records: [record(7, instances: 4)], squeue: [], instances: [7: [1, 3]], observerPort: { _ in 1 }) { _, _ in [:] }
        #expect(rows.map(\.instance) == [1, 3])
    }

    @Test func terminalStatesMapLikeTheExitCodes() {
        #expect(JobsReport.slurmState(forTerminal: "SUCCESS") == "COMPLETED")
        for state in ["FAILED", "KILLED", "LOST"] { #expect(JobsReport.slurmState(forTerminal: state) == "FAILED") }
        #expect(JobsReport.slurmState(forTerminal: "ACTIVE") == nil)
    }

    @Test func recordsRoundTripAndAReusedJobIDReplacesTheOldRecord() throws {
        let directory = NSTemporaryDirectory() + "thermos-jobs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = JobStore(directory: directory)
        var first = record(3, instances: 2)
        first.lastSeen["1"] = .init(node: "n", slurmState: "COMPLETED")
        try store.save(first)
        #expect(try store.load(3) == first)
        #expect(try store.load(4) == nil)
        var reused = record(3, instances: 5)
        reused.nonce = "m"
        try store.save(reused)
        #expect(try store.all() == [reused])
        try Data("{".utf8).write(to: URL(fileURLWithPath: directory + "/9.json"))
        #expect(throws: SlurmError.self) { try store.load(9) }
        #expect(JobStore.standard(environment: ["THERMOS_JOBS_DIR": "/x"]).directory == "/x")
        #expect(JobStore.standard(environment: ["HOME": "/h"]).directory == "/h/.local/state/thermos/jobs")
    }
}
