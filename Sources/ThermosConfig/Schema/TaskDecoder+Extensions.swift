import OrderedCollections

// Decoding our schema extensions (`env`, `cwd`, `readiness`, `liveness`, `depends_on`, the
// task's `health_check`). A task without them decodes exactly as before.
extension TaskDecoder {
    static func decodeExtensions(_ members: Members, into process: inout ProcessConfig, path: String) throws(ConfigError) {
        let p = path + "."
        if let env = members["env"] {
            guard case .map(let entries) = env else {
                throw ConfigError(.typecheck, "Process[env] must map names to strings, got \(describe(env))", field: p + "env")
            }
            for (key, value) in entries {
                process.env[key] = try string(value, "Process", "env", path: "\(p)env.\(key)")
            }
        }
        process.cwd = try members["cwd"].map { v throws(ConfigError) in try string(v, "Process", "cwd", path: p + "cwd") }
        process.readiness = try members["readiness"].map { v throws(ConfigError) in try decodeProbe(v, path: p + "readiness") }
        process.liveness = try members["liveness"].map { v throws(ConfigError) in try decodeProbe(v, path: p + "liveness") }
        if let dependsOn = members["depends_on"] {
            guard case .map(let entries) = dependsOn else {
                throw ConfigError(
                    .typecheck, "Process[depends_on] must map process names to started, ready or completed, got \(describe(dependsOn))",
                    field: p + "depends_on")
            }
            for (other, value) in entries {
                let text = try string(value, "Process", "depends_on", path: "\(p)depends_on.\(other)")
                guard let condition = DependencyCondition(rawValue: text.trimmingWhitespace()) else {
                    throw ConfigError(
                        .typecheck, "Process[depends_on] failed: '\(text)' is not one of started, ready, completed",
                        field: "\(p)depends_on.\(other)")
                }
                process.dependsOn[other] = condition
            }
        }
    }

    /// True while `inspect` decodes a task whose `{{thermos.ports[...]}}` stay as text: an `http`
    /// or `tcp` probe target holding such a reference is then kept as written (TaskValidator has
    /// already checked it with every port bound). A task that runs never has references left.
    @TaskLocal static var keepingUnresolvedProbeTargets = false

    /// A probe: exactly one of `exec`, `http`, `tcp`, and its timing.
    static func decodeProbe(_ value: ConfigValue, path: String) throws(ConfigError) -> ProbeConfig {
        let members = try structMembers(value, kind: .probe, path: path)
        let given = ["exec", "http", "tcp"].filter { members[$0] != nil }
        guard given.count == 1, let key = given.first, let raw = members[key] else {
            throw ConfigError(
                .typecheck,
                given.isEmpty ? "Probe needs one of exec: CMD, http: URL or tcp: HOST:PORT"
                    : "Probe has \(given.joined(separator: " and ")); give exactly one of exec, http, tcp",
                field: path)
        }
        let text = try string(raw, "Probe", key, path: "\(path).\(key)")
        let check: ProbeConfig.Check
        switch key {
        case "exec":
            guard !text.trimmingWhitespace().isEmpty else {
                throw ConfigError(.typecheck, "Probe[exec] is empty; give a shell command (exit 0 passes)", field: "\(path).exec")
            }
            check = .exec(text)
        case "http" where keepingUnresolvedProbeTargets && text.containsTemplateOpening:
            check = .http(ProbeConfig.HTTPTarget(unresolvedURL: text))
        case "tcp" where keepingUnresolvedProbeTargets && text.containsTemplateOpening:
            check = .tcp(host: text, port: 0)
        case "http":
            guard let target = ProbeConfig.HTTPTarget(url: text) else {
                throw ConfigError(
                    .typecheck, "Probe[http] failed: '\(text)' is not an http://HOST:PORT/PATH URL", field: "\(path).http")
            }
            check = .http(target)
        default:
            guard let (host, port) = ProbeConfig.hostAndPort(text, defaultPort: nil) else {
                throw ConfigError(.typecheck, "Probe[tcp] failed: '\(text)' is not HOST:PORT (port 1-65535)", field: "\(path).tcp")
            }
            check = .tcp(host: host, port: port)
        }
        func seconds(_ key: String) throws(ConfigError) -> Double {
            let value = try float(try required(members, key, of: .probe, path: path), "Probe", key, path: "\(path).\(key)")
            guard value.isFinite, value >= 0, value <= 86400 * 365 else {
                throw ConfigError(.typecheck, "Probe[\(key)] must be between 0 and one year of seconds, got \(value)", field: "\(path).\(key)")
            }
            return value
        }
        var probe = ProbeConfig(
            check: check, initialDelay: try seconds("initial_delay_secs"), interval: try seconds("interval_secs"),
            timeout: try seconds("timeout_secs"),
            maxConsecutiveFailures: try integer(members, "max_consecutive_failures", of: .probe, path: path))
        if let body = members["expect_body"] {
            guard case .http = check else {
                throw ConfigError(.typecheck, "Probe[expect_body] only applies to an http probe", field: "\(path).expect_body")
            }
            probe.expectBody = try string(body, "Probe", "expect_body", path: "\(path).expect_body")
        }
        for (key, value) in [("interval_secs", probe.interval), ("timeout_secs", probe.timeout)] where value <= 0 {
            throw ConfigError(.typecheck, "Probe[\(key)] must be more than 0 seconds, got \(value)", field: "\(path).\(key)")
        }
        guard probe.maxConsecutiveFailures >= 1 else {
            throw ConfigError(
                .typecheck, "Probe[max_consecutive_failures] must be at least 1, got \(probe.maxConsecutiveFailures)",
                field: "\(path).max_consecutive_failures")
        }
        return probe
    }
}
