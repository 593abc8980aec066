import Testing
import ThermosConfig
import ThermosPlanner

/// `depends_on` (our extension): `completed` behaves as `order`, `started`/`ready` are latched
/// start gates, and the validation rules (unknown, self, cross-stage, `ready` without a probe, cycles).
@Suite("DependsOn")
struct DependsOnTests {
    func dependent(_ name: String, on entries: [(String, DependencyCondition)], final: Bool = false) -> ProcessConfig {
        var config = process(name, final: final)
        config.dependencies = entries.map { (process: $0.0, condition: $0.1) }
        return config
    }

    func withReadiness(_ name: String, daemon: Bool = false) -> ProcessConfig {
        var config = process(name, daemon: daemon)
        config.readiness = ProbeConfig(check: .tcp(host: "127.0.0.1", port: 80))
        return config
    }

    @Test func completedIsAnOrder() throws {
        let planner = try TaskPlanner(task: task([process("server"), dependent("client", on: [("server", .completed)])]))
        #expect(planner.runnable == ["server"])
        var running = planner
        try running.setRunning("server")
        _ = try running.addSuccess("server", at: 0)
        #expect(running.runnable == ["client"])
    }

    @Test func completedOnADaemonIsInvalid() {
        #expect(throws: InvalidSchedule.self) {
            try TaskPlanner(task: task([process("server", daemon: true), dependent("client", on: [("server", .completed)])]))
        }
    }

    @Test func startedAndReadyDoNotOrderButGate() throws {
        let config = task([withReadiness("server", daemon: true), dependent("client", on: [("server", .ready)]),
                           dependent("watcher", on: [("server", .started)])])
        let planner = try TaskPlanner(task: config)
        // Ordering prerequisites are unaffected: all three are runnable as far as the plan goes.
        #expect(planner.runnable == ["server", "client", "watcher"])
        let gates = StartGates(task: config)
        #expect(gates.isOpen("server", started: [], ready: []))
        #expect(!gates.isOpen("client", started: [], ready: []))
        #expect(!gates.isOpen("watcher", started: [], ready: []))
        #expect(gates.isOpen("watcher", started: ["server"], ready: []))
        #expect(!gates.isOpen("client", started: ["server"], ready: []))
        #expect(gates.isOpen("client", started: ["server"], ready: ["server"]))
        #expect(gates.closed("client", started: [], ready: []) == [StartGates.Gate(process: "server", condition: .ready)])
        // A process that already ran (runner restarted) is not held again.
        #expect(gates.isOpen("client", started: [], ready: [], hasRun: true))
    }

    @Test func blockedForGoodOnlyWhenNothingRuns() {
        let gates = StartGates(task: task([withReadiness("server"), dependent("client", on: [("server", .ready)])]))
        #expect(!gates.isBlockedForGood(waiting: ["client"], anythingRunning: true, started: ["server"], ready: [], hasRun: { _ in false }))
        #expect(gates.isBlockedForGood(waiting: ["client"], anythingRunning: false, started: ["server"], ready: [], hasRun: { _ in false }))
        #expect(!gates.isBlockedForGood(waiting: ["client"], anythingRunning: false, started: [], ready: ["server"], hasRun: { _ in false }))
        #expect(!gates.isBlockedForGood(waiting: [], anythingRunning: false, started: [], ready: [], hasRun: { _ in false }))
    }

    @Test func validationNamesFieldAndFix() {
        func message(_ processes: [ProcessConfig]) -> String? {
            do {
                try ExtensionRules.check(task(processes))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(message([process("a"), dependent("b", on: [("a", .started)])]) == nil)
        #expect(message([process("server"), dependent("b", on: [("sever", .started)])])
            == "processes[1].depends_on.sever: depends on unknown process sever; did you mean server?")
        #expect(message([dependent("a", on: [("a", .started)])])?.contains("cannot depend on itself") == true)
        #expect(message([process("a"), dependent("b", on: [("a", .ready)])])
            == "processes[1].depends_on.a: a has no readiness probe to be ready; add readiness to a or use started")
        #expect(message([process("a", final: true), dependent("b", on: [("a", .started)])])?.contains("different stages") == true)
        #expect(message([dependent("a", on: [("b", .started)]), dependent("b", on: [("a", .completed)])])
            == "processes[0].depends_on: dependency cycle a → b → a; remove one of these depends_on (or order) entries")
    }

    @Test func cycleThroughOrderAndDependsOn() {
        var config = task([dependent("a", on: [("c", .started)]), process("b"), process("c")], orders: [["a", "b", "c"]])
        #expect(throws: ConfigError.self) { try ExtensionRules.check(config) }
        config.constraints = []
        #expect(throws: Never.self) { try ExtensionRules.check(config) }
    }

    @Test func cwdMustStayInside() {
        #expect(ExtensionRules.cwdProblem("work/dir") == nil)
        #expect(ExtensionRules.cwdProblem("./a/b/") == nil)
        #expect(ExtensionRules.cwdProblem("/etc") != nil)
        #expect(ExtensionRules.cwdProblem("a/../../etc") != nil)
        #expect(ExtensionRules.cwdProblem("..") != nil)
        #expect(ExtensionRules.cwdProblem("a..b") == nil)
    }
}
