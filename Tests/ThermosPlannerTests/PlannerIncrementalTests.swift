import Testing
import ThermosPlanner

/// `Planner.runnable` and `isComplete` are kept up to date by each transition instead of being
/// recomputed over every process: random schedules and random transition sequences must agree
/// with the definitions at every step.
@Suite("Planner bookkeeping")
struct PlannerIncrementalTests {
    /// A small deterministic generator (splitmix64), so a failure names a reproducible seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<40)
    func incrementalStateMatchesTheDefinitions(seed: UInt64) throws {
        var random = Generator(state: seed)
        let names = (0..<12).map { "p\($0)" }
        var prerequisites: [String: Set<String>] = [:]
        for (index, name) in names.enumerated() where index > 0 {
            let count = Int.random(in: 0...min(3, index), using: &random)
            prerequisites[name] = Set((0..<count).map { _ in names[Int.random(in: 0..<index, using: &random)] })
        }
        var planner = try Planner(processes: names, prerequisites: prerequisites)
        for _ in 0..<80 {
            let definition = Set(names.filter { planner.isRunnable($0) })
            #expect(planner.runnable == definition, "seed \(seed)")
            #expect(planner.isComplete == (planner.finished.union(planner.failed) == planner.processes), "seed \(seed)")
            var moves: [(inout Planner) throws -> Void] = planner.runnable.map { name in { try $0.setRunning(name) } }
            for name in planner.running {
                moves += [{ try $0.setFinished(name) }, { try $0.setFailed(name) }, { try $0.reset(name) }]
            }
            guard !moves.isEmpty else { break }
            try moves[Int.random(in: 0..<moves.count, using: &random)](&planner)
        }
    }
}
