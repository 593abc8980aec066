import CThermosSys
import Glibc
import ThermosCoordination

// thermos-coordinator: started by the runner for one run of one process. A plain synchronous
// main (no Foundation, no concurrency), so identity changes happen while we are single-threaded.
//
// `thermos-coordinator --standby` is started ahead of time (its runtime start-up off the critical
// path) and receives its command line and locked stream over fd 4 when a run is assigned to it.
Coordinator.ignoreTerminationSignals()
var arguments = CommandLine.arguments
if arguments.count == 2 && arguments[1] == "--standby" {
    guard let assigned = Standby.awaitAssignment() else { exit(0) }
    arguments = [arguments[0]] + assigned
}
let invocation: CoordinatorInvocation
do {
    invocation = try CoordinatorInvocation(arguments: Array(arguments.dropFirst()))
} catch {
    let failure = CoordinatorFailure.usage(error.message)
    printError("thermos-coordinator: \(failure.message)")
    exit(failure.exitStatus)
}
do {
    try Coordinator(options: invocation).run()
} catch {
    printError("thermos-coordinator[\(invocation.process)]: \(error.message)")
    exit(error.exitStatus)
}
