import ThermosTestSupport

/// Runs the built `thermos` binary in UTC, so times print the same everywhere.
func thermos(_ arguments: String...) -> CommandResult {
    thermos(arguments)
}

func thermos(_ arguments: [String], environment extra: [String: String] = [:]) -> CommandResult {
    var environment = ["TZ": "UTC", "PATH": "/usr/bin:/bin", "HOME": "/tmp"]
    environment.merge(extra) { $1 }
    return CommandRunner.run([TestPaths.builtBinary("thermos")] + arguments, environment: environment)
}
