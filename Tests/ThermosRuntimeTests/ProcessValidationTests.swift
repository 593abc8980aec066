import Testing
@testable import ThermosRuntime
import ThermosPlatform

/// `this_is_really_our_pid` (reference §6.13) and `/proc` parsing.
struct ProcessValidationTests {
    let start = 1_000_000.0

    func ours(uid: Int32?, user: String?, owner: ProcessOwner, drift: Double = 0) -> Bool {
        ProcessValidation.isOurs(processUid: uid, processUser: user, processStart: start + drift, owner: owner, recordedTime: start)
    }

    @Test func rootLaunchedProcessesMayHaveSwitchedUser() {
        #expect(ours(uid: 567, user: "someone", owner: ProcessOwner(uid: 0, user: "root")))
    }

    @Test func uidAndStartTimeDecide() {
        let owner = ProcessOwner(uid: 123, user: "thermos")
        #expect(ours(uid: 123, user: "thermos", owner: owner))
        #expect(ours(uid: 123, user: "thermos", owner: owner, drift: 9))
        #expect(ours(uid: 123, user: "other name", owner: owner))
        #expect(!ours(uid: 124, user: "thermos", owner: owner))
        #expect(!ours(uid: 123, user: "thermos", owner: owner, drift: 11))
        #expect(!ours(uid: 123, user: "thermos", owner: owner, drift: -11))
        #expect(!ours(uid: nil, user: "thermos", owner: owner))
    }

    @Test func legacyHeadersCompareUserNames() {
        let owner = ProcessOwner(uid: nil, user: "thermos")
        #expect(ours(uid: 5, user: "thermos", owner: owner))
        #expect(!ours(uid: 5, user: "other", owner: owner))
        #expect(!ours(uid: 5, user: nil, owner: owner))
    }

    @Test func procStatParsingSurvivesOddCommandNames() throws {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 12345 1000 100 18446744073709551615"
        let entry = try #require(ProcessTable.parseStat(line))
        #expect(entry.pid == 4242 && entry.parentPid == 1 && entry.processGroup == 4242 && entry.session == 4242 && entry.state == "S")
        #expect(entry.startTime == ProcessTable.bootTime + 12345 / ProcessTable.ticksPerSecond)
        #expect(ProcessTable.parseStat("garbage") == nil)
    }

    @Test func descendantsFollowParentLinks() {
        func entry(_ pid: Int32, _ parent: Int32) -> ProcessEntry {
            ProcessEntry(pid: pid, parentPid: parent, processGroup: pid, session: pid, state: "S", startTime: 0)
        }
        let table = [entry(10, 1), entry(11, 10), entry(12, 11), entry(13, 1), entry(14, 12)]
        let snapshot = Dictionary(uniqueKeysWithValues: table.map { ($0.pid, $0) })
        #expect(ProcessTable.descendants(of: 10, in: snapshot) == [11, 12, 14])
        #expect(ProcessTable.descendants(of: 13, in: snapshot).isEmpty)
    }
}
