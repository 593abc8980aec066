import Glibc
public import Logging
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosPlatform

/// Writes the runner's probe results to `checkpoints/<id>/probes.json` (`TaskPath.probeStatus`)
/// for `thermos status` and the observer: a temporary file beside it, then a rename, so a
/// reader sees the old or the new document, never half of one. Not synced: it is a view of
/// live state, rebuilt by the next probe after a crash.
///
/// ```json
/// {"processes": {"server": {"ready": true,
///   "readiness": {"run": 0, "passed": true, "detail": "HTTP 200", "time": 1765000000.5, "consecutive_failures": 0}}},
///  "health": {…}}
/// ```
public enum ProbeStatusFile {
    public static func path(root: String, taskID: String) -> String {
        TaskPath.probeStatus(root: root, taskID: taskID)
    }

    /// The document of `report`.
    public static func json(_ report: ProbeReport) -> String {
        var processes: OrderedDictionary<String, ConfigValue> = [:]
        var health: ConfigValue?
        for name in report.withReadiness.sorted() {
            processes[name] = .map(["ready": .bool(report.ready.contains(name))])
        }
        for entry in report.entries {
            guard let last = entry.last else { continue }
            let outcome = ConfigValue.map([
                "run": .integer(Int64(entry.run)), "passed": .bool(last.passed), "detail": .string(last.detail),
                "time": .double(last.time), "consecutive_failures": .integer(Int64(entry.consecutiveFailures)),
            ])
            guard let process = entry.process else {
                health = outcome
                continue
            }
            var members: OrderedDictionary<String, ConfigValue> = [:]
            if case .map(let existing)? = processes[process] { members = existing }
            members[entry.kind.rawValue] = outcome
            processes[process] = .map(members)
        }
        var document: OrderedDictionary<String, ConfigValue> = ["processes": .map(processes)]
        if let health { document["health"] = health }
        return ConfigValue.map(document).jsonText()
    }

    /// Replaces the file; a failure is logged, never fatal (the checkpoint is what matters).
    public static func write(_ report: ProbeReport, to path: String, logger: Logger) {
        let temporary = "\(path).tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            logger.warning("cannot write \(temporary): \(String(cString: strerror(errno)))")
            return
        }
        do throws(PlatformError) {
            defer { close(fd) }
            try Files.writeAll(fd, json(report) + "\n", path: temporary)
            try Files.rename(temporary, to: path)
        } catch {
            unlink(temporary)
            logger.warning("cannot publish probe results: \(error)")
        }
    }
}
