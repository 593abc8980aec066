import Glibc
import Testing
import ThermosCheckpoint
import ThermosPlatform
@testable import ThermosRuntime
import ThermosTestSupport

/// The runner reads only the coordinator streams inotify reports as written: a stream nobody
/// wrote is not read, a new registration is read whatever the notifications say, "unknown"
/// (nil: no notifications, or a lost queue) reads everything, and no record is ever missed.
struct ChangedStreamTests {
    static func status(_ process: String, _ seq: Int64) -> RunnerCkpt {
        .processStatus(ProcessStatus(seq: seq, process: process, state: .running, startTime: 1, pid: 1))
    }

    @Test func onlyWrittenStreamsAreReadAndNoRecordIsMissed() throws {
        let directory = TemporaryDirectory(prefix: "thermos-changed")
        defer { directory.remove() }
        let path = { (process: String) in directory.path + "/coordinator." + process }
        let writers = try ["a", "b"].map { try CheckpointWriter(path: path($0), policy: .none) }
        let inotify = try Inotify()
        var changes = StreamChanges()
        for name in ["a", "b"] { changes.watching(path(name), as: try inotify.watch(path(name), for: .modified)) }
        var muxer = ProcessMuxer(pathOf: path)
        muxer.register("a", watermark: 0)
        muxer.register("b", watermark: 0)

        // Written before anything was read: a fresh registration is read in full.
        try writers[0].append(Self.status("a", 1))
        changes.absorb(inotify.drainWatches())
        #expect(try muxer.select(changed: changes.take()).map(\.process) == ["a"])

        // Both written, but only b reported: a's stream is not read (its record stays unread).
        try writers[1].append(Self.status("b", 1))
        try writers[0].append(Self.status("a", 2))
        changes.absorb(inotify.drainWatches())
        let reported = changes.take()
        #expect(reported == [path("a"), path("b")])
        let taken = (reported ?? []).subtracting([path("a")])
        #expect(try muxer.select(changed: taken).map(\.process) == ["b"])
        // a's record is there for the next read that includes a (nil = read everything).
        #expect(try muxer.select(changed: nil).map(\.seq) == [2])
        #expect(try muxer.select(changed: []).isEmpty)
    }

    @Test func anUnwatchableStreamIsAlwaysReportedAndAnOverflowMeansUnknown() {
        var changes = StreamChanges()
        changes.cannotWatch("/missing")
        #expect(changes.take() == ["/missing"])
        #expect(changes.take() == ["/missing"])
        changes.watching("/missing", as: 7)
        #expect(changes.take() == [])
        changes.absorb((watches: [7], overflowed: false))
        #expect(changes.take() == ["/missing"])
        changes.absorb((watches: [], overflowed: true))
        #expect(changes.take() == nil)
        #expect(changes.take() == [])
    }
}
