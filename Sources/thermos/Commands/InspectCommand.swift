import ArgumentParser

/// `thermos inspect`: show the evaluated task of a config file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Inspect a thermos config and display the evaluated task."
    )

    @Argument(help: "A task config (.json, .yaml, .yml).")
    var config: String

    func run() throws {
        throw fail("inspect: not wired up yet", code: 2)
    }
}
