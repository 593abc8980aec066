import Foundation
import Glibc
import Testing
import ThermosTestSupport
@testable import ThermosSlurm

/// The batch script runs under bash with a fake `thermos` that prints its arguments.
@Suite struct BatchScriptTests {
    let directory = NSTemporaryDirectory() + "thermos-batch-\(UUID().uuidString)"

    func runScript(_ script: BatchScript, environment: [String: String]) throws -> [String] {
        let path = directory + "/batch.sh"
        try Data(script.render().utf8).write(to: URL(fileURLWithPath: path))
        let output = directory + "/argv"
        let result = CommandRunner.run(["/bin/bash", path], environment: environment.merging(["PATH": "/usr/bin:/bin", "ARGV_OUT": output]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func makeScript() throws -> BatchScript {
        try FileManager.default.createDirectory(atPath: directory + "/root dir", withIntermediateDirectories: true)
        let fake = directory + "/fake thermos"
        try Data("#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$ARGV_OUT\"\n".utf8).write(to: URL(fileURLWithPath: fake))
        chmod(fake, 0o755)
        return BatchScript(
            name: "hello", nonce: "abc", root: directory + "/root dir", sandboxRoot: directory + "/sb", snapshot: directory + "/task's.json",
            thermos: fake, ports: ["http", "admin"], preemptionWait: 30, runFlags: ["--fsync", "always"])
    }

    @Test func instanceRunsThermosRunWithItsBindings() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = try makeScript()
        #expect(script.render().contains("\nexec "), "the runner must replace the batch shell")
        let argv = try runScript(script, environment: ["SLURM_ARRAY_JOB_ID": "41", "SLURM_ARRAY_TASK_ID": "3", "SLURMD_NODENAME": "node7"])
        #expect(argv == [
            "run", "--root", directory + "/root dir", "--sandbox", directory + "/sb/hello.41.3.abc", "--task-id", "hello.41.3.abc",
            "--preemption-wait", "30", "-E", "mesos.instance=3", "-E", "mesos.hostname=node7", "-P", "http:0", "-P", "admin:0",
            "--fsync", "always", directory + "/task's.json",
        ])
    }

    @Test func requeuedInstanceResumesTheTaskItRecorded() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = try makeScript()
        let environment = ["SLURM_ARRAY_JOB_ID": "41", "SLURM_ARRAY_TASK_ID": "0", "SLURMD_NODENAME": "n"]
        for state in ["active", "finished"] {
            let tasks = directory + "/root dir/tasks/\(state)"
            try FileManager.default.createDirectory(atPath: tasks, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: tasks + "/hello.41.0.abc"))
            #expect(try runScript(script, environment: environment).last == tasks + "/hello.41.0.abc")
            try FileManager.default.removeItem(atPath: tasks + "/hello.41.0.abc")
        }
        #expect(try runScript(script, environment: environment).last == directory + "/task's.json")
    }
}

@Suite struct ObserverClientTests {
    @Test func parsesPlainAndChunkedResponses() throws {
        let plain = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".utf8)
        let (status, body) = try ObserverClient.parseResponse(plain, context: "t")
        #expect(status == 200 && body == Array("{}".utf8))
        let chunked = Array("HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n".utf8)
        let (missing, text) = try ObserverClient.parseResponse(chunked, context: "t")
        #expect(missing == 404 && text == Array("abcde".utf8))
        #expect(throws: SlurmError.self) { try ObserverClient.parseResponse(Array("garbage".utf8), context: "t") }
    }

    @Test func statesOfTheObserverTaskRoute() {
        let body = #"{"a.1.0.n": {"state": "RUNNING", "ports": {}}, "b": {"state": "SUCCESS"}, "c": 3}"#
        #expect(ObserverClient.parseStates(Array(body.utf8)) == ["a.1.0.n": "RUNNING", "b": "SUCCESS"])
    }

    @Test func unreachableObserverIsAOneLineError() {
        do {
            _ = try ObserverClient(timeout: 1).states(host: "127.0.0.1", port: 1, taskIDs: ["x"])
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("http://127.0.0.1:1/j/task?task_id=x"))
            #expect(!error.description.contains("\n"))
        }
    }
}
