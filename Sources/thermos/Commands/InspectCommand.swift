import ArgumentParser
import ThermosConfig

/// `thermos inspect`: show the evaluated task of a config file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Inspect a thermos config and display the evaluated task",
        discussion: """
            Loads the config (.json: Aurora task JSON; .yaml/.yml: the same structure; .thermos and \
            .aurora: the Python DSL, rendered through python3 + pystachio — see thermos setup-dsl), \
            applies -E bindings and the schema defaults, validates it like the runner does, and \
            prints the evaluated task as indented JSON with sorted keys. {{thermos.*}} and \
            {{mesos.*}} references stay as text unless -E binds them: they are bound when the task runs.
            """
    )

    @OptionGroup var selection: ConfigSelection

    @Flag(help: "Print the task as single-line Aurora task JSON.")
    var json = false

    @Argument(help: "A task config (.json, .yaml, .yml, .thermos, .aurora).")
    var config: String

    func run() throws {
        do {
            let value = try selection.userConfig(path: config).evaluatedForDisplay()
            print(json ? value.jsonText() : value.prettyJSONText())
        } catch {
            throw fail(error.description, code: 2)
        }
    }

    /// `name=value` pairs; a missing `=` is an error naming the flag.
    static func parseBindings(_ bindings: [String]) throws(ConfigError) -> [(address: String, value: ConfigValue)] {
        var result: [(address: String, value: ConfigValue)] = []
        for binding in bindings {
            guard let equals = binding.firstIndex(of: "="), equals != binding.startIndex else {
                throw ConfigError(.malformed, "-E \(binding): expected name=value")
            }
            result.append((String(binding[..<equals]), .string(String(binding[binding.index(after: equals)...]))))
        }
        return result
    }
}
