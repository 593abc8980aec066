import Testing
import ThermosCheckpoint

/// The on-disk layout (reference §1.2 and §6.3), including the 2012 legacy log layout.
@Suite struct TaskPathTests {
    @Test func everyTemplate() throws {
        let path = TaskPath(root: "/r", taskID: "t", state: .active, process: "p", run: 3, logDir: "/s/.logs")
        #expect(try path.path(.taskPath) == "/r/tasks/active/t")
        #expect(try path.path(.checkpointPath) == "/r/checkpoints/t")
        #expect(try path.path(.runnerCheckpoint) == "/r/checkpoints/t/runner")
        #expect(try path.path(.processCheckpoint) == "/r/checkpoints/t/coordinator.p")
        #expect(try path.path(.processLogbase) == "/s/.logs")
        #expect(try path.path(.processLogdir) == "/s/.logs/p/3")
        #expect(try path.with(filename: "stdout").path(.processLogdir) == "/s/.logs/p/3/stdout")
        #expect(try path.path(named: "runner_checkpoint") == "/r/checkpoints/t/runner")
    }

    @Test func givenFillsInPartialPaths() throws {
        let root = TaskPath(root: "/var/lib/mesos")
        #expect(root.interpolated(.checkpointPath) == "/var/lib/mesos/checkpoints/%(task_id)s")
        #expect(try root.given(taskID: "foo").path(.checkpointPath).hasPrefix("/var/lib/mesos"))
        #expect(try TaskPath(logDir: "sloth_love_chunk").given(taskID: "foo").path(.processLogbase) == "sloth_love_chunk")
        #expect(root.given(taskID: "*", state: .finished).interpolated(.taskPath) == "/var/lib/mesos/tasks/finished/*")
    }

    @Test func underspecifiedAndUnknownTemplatesAreErrors() {
        #expect {
            try TaskPath(root: "/r").path(.runnerCheckpoint)
        } throws: { error in
            (error as? TaskPath.PathError)?.message
                == "Tried to interpolate path with insufficient variables: runner_checkpoint as /r/checkpoints/%(task_id)s/runner"
        }
        #expect {
            try TaskPath(root: "/r").path(named: "nope")
        } throws: { error in
            (error as? TaskPath.PathError)?.message == "Internal error, unknown id: nope"
        }
    }

    @Test func legacyLogLayoutLivesUnderTheRoot() throws {
        let legacy = TaskPath(root: "/r", taskID: "hello_world", process: "echo", run: 0, legacyLogLayout: true)
        #expect(try legacy.path(.processLogbase) == "/r/logs/hello_world")
        #expect(try legacy.path(.processLogdir) == "/r/logs/hello_world/echo/0")
        #expect(TaskPath.logBase(root: "/r", taskID: "x", header: RunnerHeader()) == "/r/logs/x")
        #expect(TaskPath.logBase(root: "/r", taskID: "x", header: RunnerHeader(logDir: "/l")) == "/l")
    }

    @Test func staticHelpersMatchTheTemplates() throws {
        let path = TaskPath(root: "/r", taskID: "t", state: .finished, process: "p")
        #expect(TaskPath.taskFile(root: "/r", taskID: "t", state: .finished) == (try path.path(.taskPath)))
        #expect(TaskPath.runnerCheckpoint(root: "/r", taskID: "t") == (try path.path(.runnerCheckpoint)))
        #expect(TaskPath.processCheckpoint(root: "/r", taskID: "t", process: "p") == (try path.path(.processCheckpoint)))
        #expect(TaskPath.processLogDirectory(logBase: "/l", process: "p", run: 2) == "/l/p/2")
    }
}
