import Glibc
import ThermosCoordination

// thermos-coordinator: one run of one process. A plain synchronous main (no Foundation, no
// concurrency), so identity changes happen while we are single-threaded.
//
// Two ways in:
// - `thermos-coordinator <invocation arguments>`: started by the runner for one run, with the
//   locked stream as fd 3 and the handshake socket as fd 4 (the one-run path);
// - `thermos-coordinator --fork-server [--sandbox PATH]`: started once by the runner; it forks one coordinator per
//   run (no exec, no Swift start-up), each of which then goes the one-run path's way.
Coordinator.ignoreTerminationSignals()
let arguments = Array(CommandLine.arguments.dropFirst())
if ForkServerProtocol.isServerInvocation(arguments) {
    ForkServer.serve()
}
Coordinator.main(arguments: arguments)
