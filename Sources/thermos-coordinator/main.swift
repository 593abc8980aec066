import Glibc

// thermos-coordinator: started by the runner for one run of one process. A plain synchronous
// main (no Foundation, no concurrency), so identity changes happen while we are single-threaded.
switch CoordinatorOptions.parse(CommandLine.arguments) {
case .failure(let failure):
    printError("thermos-coordinator: \(failure.message)")
    exit(failure.exitStatus)
case .success(let options):
    do {
        try Coordinator(options: options).run()
    } catch {
        printError("thermos-coordinator[\(options.process)]: \(error.message)")
        exit(error.exitStatus)
    }
}
