import Glibc
import Testing
import ThermosPlatform

/// `ProcessTable.children(of:)` (the runner's orphan sweep) lists what a full /proc scan
/// finds as the process's children.
struct ProcessChildrenTests {
    @Test func childrenAreThoseAFullScanFinds() throws {
        let first = try SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "30"]).spawn()
        let second = try SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "30"]).spawn()
        defer {
            for pid in [first, second] {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        let children = try #require(ProcessTable.children(of: getpid()))
        #expect(children.isSuperset(of: [first, second]))
        let scanned = Set(ProcessTable.snapshot().values.filter { $0.parentPid == getpid() }.map(\.pid))
        #expect(scanned.isSubset(of: children), "every live child a scan sees (other tests may start more meanwhile)")
        #expect(ProcessTable.children(of: first) == [])
    }

    @Test func aMissingProcessHasNoChildrenFile() {
        #expect(ProcessTable.children(of: Int32.max) == nil)
    }
}
