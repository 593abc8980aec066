import Testing
import ThermosSlurm

@Suite struct SqueueTests {
    @Test func parsesOneLinePerElement() {
        let rows = SqueueRow.parse("""
            7|0|7_0|RUNNING|vm
            7|1|8|COMPLETED|vm
            9|N/A|9|PENDING|

            garbage line
            """)
        #expect(rows == [
            SqueueRow(arrayJobID: 7, instance: 0, elementID: "7_0", state: "RUNNING", nodes: "vm"),
            SqueueRow(arrayJobID: 7, instance: 1, elementID: "8", state: "COMPLETED", nodes: "vm"),
            SqueueRow(arrayJobID: 9, instance: nil, elementID: "9", state: "PENDING", nodes: ""),
        ])
    }

    @Test func expandsAPendingRangeThatWasNotSplit() {
        let rows = SqueueRow.parse("12|[2-4,7%2]|12_[2-4,7%2]|PENDING|\n")
        #expect(rows.map(\.instance) == [2, 3, 4, 7])
        #expect(rows.map(\.elementID) == ["12_2", "12_3", "12_4", "12_7"])
        #expect(rows.allSatisfy { $0.state == "PENDING" && $0.arrayJobID == 12 })
    }

    @Test func nodeAddressesAndConfigValues() {
        let nodes = SlurmNodes.addresses("NodeName=vm Arch=x86_64 CoresPerSocket=1 NodeAddr=127.0.0.1 NodeHostName=vm\nNodeName=b State=IDLE\n")
        #expect(nodes == ["vm": "127.0.0.1", "b": "b"])
        let config = "Configuration data as of 2026-12-03T15:00:00\nKillWait                = 35 sec\nMinJobAge = 600 sec\n"
        #expect(SlurmNodes.configValue("KillWait", in: config) == "35 sec")
        #expect(SlurmNodes.configValue("KillWait", in: config).flatMap(SlurmNodes.seconds) == 35)
        #expect(SlurmNodes.configValue("Missing", in: config) == nil)
    }
}

@Suite struct SbatchRequestTests {
    @Test func commandLineHasTheArrayTheSignalAndTheLimits() {
        let request = SbatchRequest(instances: 50, jobName: "www/prod/hello", outputDirectory: "/r/s", partition: "debug", timeLimit: "10:00", signalLead: 45)
        #expect(request.arguments(script: "/r/s/batch.sh") == [
            "sbatch", "--parsable", "--array=0-49", "--job-name=www/prod/hello", "--output=/r/s/%a.out", "--chdir=/r/s",
            "--requeue", "--signal=B:TERM@45", "--partition=debug", "--time=10:00", "/r/s/batch.sh",
        ])
        let bare = SbatchRequest(instances: 1, jobName: "a", outputDirectory: "/d", partition: nil, timeLimit: nil, signalLead: 15)
        #expect(!bare.arguments(script: "s").contains { $0.hasPrefix("--partition") || $0.hasPrefix("--time") })
    }

    @Test func jobIDFromParsableOutput() {
        #expect(SbatchRequest.parseJobID("42\n") == 42)
        #expect(SbatchRequest.parseJobID("42;cluster\n") == 42)
        #expect(SbatchRequest.parseJobID("sbatch: warning\n43\n") == 43)
        #expect(SbatchRequest.parseJobID("error") == nil)
    }

    @Test func waitsCoverTheFinalizationBudget() {
        #expect(SbatchRequest.signalLead(finalizationWait: 30) == 45)
        #expect(SbatchRequest.requiredKillWait(finalizationWait: 30) == 35)
    }
}

@Suite struct SlurmNamesTests {
    @Test func taskIDNamesJobInstanceAndNonce() {
        #expect(SlurmNames.taskID(name: "hello", jobID: 12, instance: 3, nonce: "0a1b2c3d") == "hello.12.3.0a1b2c3d")
        let nonces = Set((0..<100).map { _ in SlurmNames.makeNonce() })
        #expect(nonces.count == 100)
        #expect(nonces.allSatisfy { $0.count == 8 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func safeNamesAndQuoting() {
        #expect(SlurmNames.isSafeName("www-data_prod-1"))
        #expect(!SlurmNames.isSafeName("a b"))
        #expect(!SlurmNames.isSafeName("a.b"))
        #expect(!SlurmNames.isSafeName(""))
        #expect(SlurmNames.shellQuoted("it's") == #"'it'\''s'"#)
    }
}
