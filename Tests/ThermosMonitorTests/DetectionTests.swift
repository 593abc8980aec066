import Glibc
import Testing
import ThermosCheckpoint
import ThermosConfig
import ThermosTestSupport
@testable import ThermosMonitor

/// The observer's task transitions (reference §1.14, §6.19) and inotify-driven discovery.
@Suite struct DetectionTests {
    func at(_ id: String, _ directory: TaskPath.TaskDirectory) -> TaskLocation {
        TaskLocation(root: "/r", taskID: id, directory: directory)
    }

    @Test func transitionTable() {
        var transitions = TaskTransitions()
        // #1 n/e → active: on_active once.
        #expect(transitions.apply([at("a", .active)]).events == [.active(at("a", .active))])
        // #3 active → active: nothing.
        #expect(transitions.apply([at("a", .active)]).events.isEmpty)
        // #4 active → finished: on_finished.
        #expect(transitions.apply([at("a", .finished)]).events == [.finished(at("a", .finished))])
        // #7 finished → finished: nothing.
        #expect(transitions.apply([at("a", .finished)]).events.isEmpty)
        // #6 finished → active: an error, the task stays finished.
        let back = transitions.apply([at("a", .active)])
        #expect(back.events.isEmpty)
        #expect(back.errors.map(\.taskID) == ["a"])
        #expect(transitions.known["a"]?.directory == .finished)
        // #8 finished → gone: on_removed.
        #expect(transitions.apply([]).events == [.removed(taskID: "a")])
        // #2 n/e → finished: on_active + on_finished.
        #expect(transitions.apply([at("b", .finished)]).events == [.active(at("b", .finished)), .finished(at("b", .finished))])
        // #5 active → gone: on_finished + on_removed.
        _ = transitions.apply([at("b", .finished), at("c", .active)])
        #expect(transitions.apply([at("b", .finished)]).events == [.finished(at("c", .active)), .removed(taskID: "c")])
    }

    @Test func finishedWinsWhenBothFilesExist() {
        var transitions = TaskTransitions()
        let events = transitions.apply([at("a", .finished), at("a", .active)]).events
        #expect(events == [.active(at("a", .finished)), .finished(at("a", .finished))])
    }

    @Test func scanOfTheFixtureRoot() {
        let scan = TaskTransitions.scan(roots: [TestPaths.auroraRoot])
        #expect(scan.filter { $0.directory == .active }.map(\.taskID) == ["sleep60-lost"])
        #expect(scan.filter { $0.directory == .finished }.count == 6)
    }

    @Test func inotifyReportsANewTaskAtOnce() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        builder.makeDirectories(directory.path + "/tasks/active")
        let observer = try TaskObserver(roots: [directory.path])
        observer.refresh()
        #expect(observer.counts() == (0, 0))
        let watcher = RootWatcher(roots: [directory.path])
        #expect(watcher.isWatching)
        try builder.addSimpleTask("t1", directory: .active, processes: [.init("p", .running)], finalState: nil)
        let started = wallClock()
        #expect(watcher.wait(timeout: 5))
        #expect(wallClock() - started < 1)
        let events = observer.refresh()
        #expect(events.count == 1)
        #expect(observer.counts() == (1, 0))
        // Finishing: the runner moves the task file.
        builder.makeDirectories(directory.path + "/tasks/finished")
        rename(directory.path + "/tasks/active/t1", directory.path + "/tasks/finished/t1")
        #expect(watcher.wait(timeout: 5))
        #expect(observer.refresh().count == 1)
        #expect(observer.counts() == (0, 1))
        #expect(observer.task("t1")?.task.isFinished == true)
    }

    @Test func listingIsNewestFirstAndTaskJSONIsBound() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path)
        for (index, id) in ["old", "mid", "new"].enumerated() {
            try builder.addSimpleTask(id, directory: .finished, processes: [.init("p", .success, returnCode: 0)], finalState: .success)
            TaskRootBuilder.setMtime(directory.path + "/tasks/finished/" + id, 1_000_000 + Double(index) * 100)
        }
        let observer = try TaskObserver(roots: [directory.path])
        observer.refresh()
        #expect(observer.tasks(.finished).map(\.location.taskID) == ["new", "mid", "old"])
        #expect(observer.tasks(.active).isEmpty)
        let json = observer.task("new")?.task.taskJSON
        #expect(json?["user"] == .string("root"))
        #expect(observer.task("new")?.task.state.taskState == .success)
    }
}
