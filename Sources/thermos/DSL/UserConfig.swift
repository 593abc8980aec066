import ThermosConfig
import ThermosConfigLoading

/// Loads a config the user names on the command line (`run`, `inspect`, `convert`): task JSON
/// and YAML strictly (unknown keys are errors), `.thermos`/`.aurora` through the Python loader.
/// The result is one task with the `-E` bindings applied.
struct UserConfig {
    var path: String
    var task: String?
    var job: String?
    var bindings: [String]
    /// `mesos.instance`/`mesos.hostname` as `thermos run` binds them; nil for inspect/convert.
    var mesos: (instance: Int, hostname: String)?

    /// The selected task, bound; for `.aurora` files also the job key.
    func load() throws(ConfigError) -> TaskTemplate {
        let parsed = try InspectCommand.parseBindings(bindings)
        var standard: [(address: String, value: ConfigValue)] = []
        if let mesos {
            standard = [("mesos.instance", .string(String(mesos.instance))), ("mesos.hostname", .string(mesos.hostname))]
        }
        let templates: [TaskTemplate]
        let kind = DSLKind.of(path)
        if let job, kind != .aurora {
            throw ConfigError(
                .taskSelection, "--job \(job): only an .aurora file has jobs; this file holds tasks (choose one with --task)", file: path)
        }
        if let kind {
            let request = DSLRequest(
                file: path, absoluteFile: absolutePath(path), kind: kind,
                bindings: parsed.map { ($0.address, $0.value.interpolationText) }, job: job, mesos: mesos)
            templates = try DSLConfigLoader.load(request).templates
        } else {
            templates = try ConfigLoader.loadTemplates(path: path, strict: true)
        }
        return try ConfigLoader.selectTask(templates, named: task).binding(standard + parsed)
    }

    /// The task as `inspect` and `convert` show it: validated as the runner would, with
    /// `{{mesos.*}}` bound to placeholders the way Aurora's client checked a job (instance 31337),
    /// then evaluated leaving `{{thermos.*}}`/`{{mesos.*}}` unbound. `keepingLiterals` keeps each
    /// `{{&x}}` escaped, so that the value written out reads back as the same task.
    func evaluatedForDisplay(keepingLiterals: Bool = false) throws(ConfigError) -> ConfigValue {
        let template = try load()
        try TaskValidator.validate(template.binding([("mesos.instance", .string("31337")), ("mesos.hostname", .string("localhost"))]))
        return try template.evaluate(context: nil, allowUnbound: true, keepingLiterals: keepingLiterals).configValue
    }
}
