import ThermosConfig

/// A process with an empty command line and the given restart rules (schema defaults otherwise).
func process(
    _ name: String, maxFailures: Int = 1, daemon: Bool = false, ephemeral: Bool = false,
    minDuration: Int = 5, final: Bool = false
) -> ProcessConfig {
    ProcessConfig(
        name: name, cmdline: "", maxFailures: maxFailures, daemon: daemon, ephemeral: ephemeral,
        minDuration: minDuration, final: final)
}

/// A task over `processes` with one order constraint per entry of `orders`.
func task(_ processes: [ProcessConfig], orders: [[String]] = []) -> TaskConfig {
    TaskConfig(name: "test", processes: processes, constraints: orders.map { Constraint(order: $0) })
}

/// p1, p2, p3 with no ordering.
let unorderedTask = task([process("p1"), process("p2"), process("p3")])
/// p1, p2, p3 ordered p1 → p2 → p3.
let orderedTask = task([process("p1"), process("p2"), process("p3")], orders: [["p1", "p2", "p3"]])
/// No processes at all.
let emptyTask = task([])
