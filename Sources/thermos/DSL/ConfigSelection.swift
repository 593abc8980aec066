import ArgumentParser

/// Which task of a config file a command shows, and the bindings applied to it: `--task`,
/// `--job` (the job of an `.aurora` file) and `-E name=value`, shared by `inspect` and `convert`.
struct ConfigSelection: ParsableArguments {
    @Option(help: "The task to take when the file holds several.")
    var task: String?

    @Option(help: ArgumentHelp("The job of an .aurora file: CLUSTER/ROLE/ENV/NAME, or NAME when unique.", valueName: "key"))
    var job: String?

    @Option(
        name: [.customShort("E"), .customLong("environment")],
        help: ArgumentHelp("Bind a template variable (repeatable).", valueName: "name=value"))
    var bindings: [String] = []

    /// The config at `path` with this selection.
    func userConfig(path: String) -> UserConfig {
        UserConfig(path: path, task: task, job: job, bindings: bindings)
    }
}
