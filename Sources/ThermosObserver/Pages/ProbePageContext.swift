import ThermosMonitor

/// The page text of probe results and `thermos stop` (the JSON routes carry the raw values).
enum ProbePageContext {
    /// `readiness passed (exit 0) 2s ago`, `liveness failed 2 in a row (exit 1) 1s ago`.
    static func describe(_ kind: String, _ outcome: ProbeStatusDocument.Outcome, now: Double) -> String {
        let result = outcome.passed ? "passed" : "failed \(outcome.consecutive_failures) in a row"
        return "\(kind) \(result) (\(outcome.detail)) \(Format.ago(outcome.time, now: now))"
    }

    /// `ready · readiness passed (HTTP 200) 2s ago · liveness …`; empty without probe data.
    static func summary(_ process: ProbeStatusDocument.Process?, now: Double) -> String {
        guard let process else { return "" }
        var parts: [String] = []
        if let ready = process.ready { parts.append(ready ? "ready" : "not ready") }
        if let readiness = process.readiness { parts.append(describe("readiness", readiness, now: now)) }
        if let liveness = process.liveness { parts.append(describe("liveness", liveness, now: now)) }
        return parts.joined(separator: " · ")
    }

    /// The members a process row or page adds: `probes` (summary text, omitted when empty),
    /// `ready` (true only for a ready process) and `stopped`.
    static func members(_ process: ProbeStatusDocument.Process?, stopped: Bool, now: Double) -> [String: Any] {
        var members: [String: Any] = ["stopped": stopped]
        let text = summary(process, now: now)
        if !text.isEmpty { members["probes"] = text }
        if process?.ready == true { members["ready"] = true }
        return members
    }
}
