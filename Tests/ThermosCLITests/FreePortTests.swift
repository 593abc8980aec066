import Glibc
import OrderedCollections
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `thermos run -P name:0` binds a free port of this machine (what Slurm instances use).
@Suite(.timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct FreePortTests {
    @Test func zeroBindsAFreePortPerName() throws {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(#"""
            {"name": "ports", "processes": [{"name": "p", "cmdline": "echo {{thermos.ports[http]}} {{thermos.ports[admin]}} > ports"}]}
            """#)
        let result = fixture.run(config, taskID: "ports", ["-P", "http:0", "-P", "admin:0"])
        #expect(result.status == 0, "\(result.stderr)")
        let header = try #require(fixture.state("ports").header)
        let http = try #require(header.ports?["http"])
        let admin = try #require(header.ports?["admin"])
        #expect(http > 0 && admin > 0 && http != admin)
        #expect(fixture.read("ports") == "\(http) \(admin)\n")
    }
}
