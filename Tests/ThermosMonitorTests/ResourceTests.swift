import Glibc
import Testing
import ThermosCheckpoint
import ThermosPlatform
import ThermosTestSupport
@testable import ThermosMonitor

/// /proc sampling on real process trees, disk usage and the history ring buffer.
@Suite(.serialized) struct ResourceTests {
    @Test func statLineWithAWeirdCommandName() throws {
        let line = "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 5 3 0 777 10485760 300 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        // The monitor samples through ThermosPlatform's process table (the one /proc parser).
        let stat = ProcessTable.parseStat(line)
        #expect(stat?.pid == 1234)
        #expect(stat?.parentPid == 1)
        #expect(stat?.userTicks == 250)
        #expect(stat?.systemTicks == 50)
        #expect(stat?.nice == 5)
        #expect(stat?.threads == 3)
        #expect(stat?.startTicks == 777)
        #expect(stat?.virtualBytes == 10_485_760)
        #expect(stat?.residentPages == 300)
        #expect(stat?.statusName == "sleeping")
        #expect(ProcessTable.parseStat("garbage") == nil)
        let sample = ProcessTreeCollector.sample(of: try #require(stat))
        #expect(sample.user == 250 / ProcessTable.ticksPerSecond && sample.system == 50 / ProcessTable.ticksPerSecond)
        #expect(sample.rss == 300 * ProcessTable.pageSize && sample.vms == 10_485_760 && sample.threads == 3)
    }

    @Test func sampleAddition() {
        let a = ProcessSample(rate: 1, user: 2, system: 3, rss: 4, vms: 5, nice: 0, status: "running", threads: 1)
        let b = ProcessSample(rate: 1, user: 1, system: 1, rss: 1, vms: 1, nice: nil, status: nil, threads: 2)
        let sum = a + b
        #expect(sum.rss == 5 && sum.threads == 3 && sum.user == 3)
        #expect(sum.nice == 0 && sum.status == "running")
        #expect(ProcessSample.empty.status == nil && ProcessSample.empty.rss == 0)
    }

    @Test func processTreeOfRealChildren() throws {
        // sh → two sleeps: three processes in a new session.
        guard let tree = BackgroundProcess(["sh", "-c", "sleep 30 & sleep 30 & wait"]) else {
            Issue.record("cannot spawn sh")
            return
        }
        defer { tree.stop() }
        var collector = ProcessTreeCollector(pid: tree.pid)
        var count = 0
        for _ in 0..<50 {
            collector.sample(ProcSnapshot.take())
            count = collector.processCount
            if count == 3 { break }
            usleep(20_000)
        }
        #expect(count == 3)
        let value = collector.value
        #expect(value.rss > 0)
        #expect(value.vms > value.rss)
        #expect(value.threads >= 3)
        #expect(value.status != nil)
        #expect(value.rate >= 0)
        tree.stop()
        #expect(collector.sample(ProcSnapshot.take()) == .empty)
        #expect(collector.processCount == 0)
    }

    @Test func cpuRateOfABusyProcess() throws {
        guard let busy = BackgroundProcess(["sh", "-c", "while :; do :; done"]) else {
            Issue.record("cannot spawn sh")
            return
        }
        defer { busy.stop() }
        var collector = ProcessTreeCollector(pid: busy.pid)
        collector.sample(ProcSnapshot.take())
        #expect(collector.value.rate == 0)  // a rate needs two samples
        usleep(500_000)
        let second = collector.sample(ProcSnapshot.take())
        #expect(second.rate > 0.1)
        #expect(second.rate < 2.5)
        #expect(second.user + second.system > 0)
    }

    @Test func observerSamplesRunningProcessesOfActiveTasks() throws {
        guard let tree = BackgroundProcess(["sh", "-c", "sleep 30 & wait"]) else { return }
        defer { tree.stop() }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try TaskRootBuilder(root: directory.path).addSimpleTask(
            "live", directory: .active, processes: [.init("server", .running, pid: tree.pid), .init("gone", .success, returnCode: 0)],
            finalState: nil, sandboxBytes: 64 * 1024)
        let observer = try TaskObserver(roots: [directory.path])
        observer.refresh()
        usleep(100_000)
        observer.sampleProcesses()
        observer.collectDisk()
        let latest = try #require(observer.task("live")).task.latestResources
        #expect(latest.processCount == 2)
        #expect(latest.process.rss > 0)
        #expect(latest.byProcess["server"]?.processCount == 2)
        #expect(latest.byProcess["gone"] == nil)
        #expect(latest.disk >= 64 * 1024)
        observer.sampleProcesses()
        #expect(observer.task("live")?.task.resourceHistory.count == 2)
    }

    @Test func diskUsageCountsRegularFilesAndNeverFollowsLinks() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect(DiskUsage.measure(directory.path) == .init(bytes: 0, complete: true))
        directory.write("a/big", [UInt8](repeating: 1, count: 1 << 20))
        let one = DiskUsage.measure(directory.path).bytes
        #expect(one >= 1 << 20)
        directory.write("a/b/more", [UInt8](repeating: 1, count: 100 << 10))
        #expect(DiskUsage.measure(directory.path).bytes >= one + (100 << 10))
        symlink("/usr", directory.path + "/link-out")
        symlink("/etc/passwd", directory.path + "/a/passwd")
        let withLinks = DiskUsage.measure(directory.path).bytes
        #expect(withLinks < one + (200 << 10))
        unlink(directory.path + "/a/big")
        let after = DiskUsage.measure(directory.path).bytes
        #expect(after >= 100 << 10 && after < one)
        #expect(DiskUsage.measure(directory.path, deadline: 0).complete == false)
        #expect(DiskUsage.measure(directory.path + "/missing").bytes == 0)
    }

    @Test func historyRingBuffer() throws {
        #expect(throws: HistoryError.self) { try ResourceHistory<Int>(capacity: 0) }
        #expect(throws: HistoryError.self) { try ResourceHistory<Int>(capacity: 10_001) }
        #expect(throws: HistoryError.self) { try ResourceHistory<Int>.length(historyTime: 86400, interval: 1) }
        #expect(try ResourceHistory<Int>.length(historyTime: 3600, interval: 20) == 180)
        var history = try ResourceHistory<Int>(capacity: 3)
        #expect(history.get(5) == nil)
        try history.add(10, 1)
        try history.add(20, 2)
        #expect(throws: HistoryError.self) { try history.add(15, 9) }
        try history.add(20, 3)  // equal timestamps are fine
        try history.add(30, 4)  // drops the oldest
        #expect(history.entries.map(\.value) == [2, 3, 4])
        #expect(history.get(0)?.value == 2)
        #expect(history.get(25)?.value == 4)
        #expect(history.get(99)?.value == 4)
        #expect(history.latest?.timestamp == 30)
        #expect(try ObserverSettings().historyLength() == 180)
    }
}
