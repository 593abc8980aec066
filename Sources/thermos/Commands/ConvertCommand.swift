import ArgumentParser
import ThermosConfig

/// `thermos convert`: the evaluated task of any config as task JSON or as YAML that
/// `thermos run` accepts unchanged (e.g. to leave the Python DSL behind).
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Print the task of a config as task JSON or YAML",
        discussion: """
            Loads a config like inspect (.json, .yaml, .thermos, .aurora; -E bindings; --job for \
            .aurora files with several jobs), validates it, and prints the task: one line of task \
            JSON, or YAML that thermos run accepts unchanged. {{thermos.*}} and {{mesos.*}} \
            references stay as text unless -E binds them, and a literal {{&x}} stays {{&x}}.
            """
    )

    /// What `--format` prints.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, yaml
    }

    @OptionGroup var selection: ConfigSelection

    @Option(help: "Output format: json or yaml.")
    var format: Format = .json

    @Argument(help: "A task config (.json, .yaml, .yml, .thermos, .aurora).")
    var config: String

    func run() throws {
        do {
            let value = try selection.userConfig(path: config)
                .evaluatedForDisplay(keepingLiterals: true)
            switch format {
            case .json: print(value.jsonText())
            case .yaml: print(value.yamlText(), terminator: "")
            }
        } catch {
            throw fail(error.description, code: 2)
        }
    }
}
