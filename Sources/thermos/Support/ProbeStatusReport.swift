import Glibc
import ThermosCheckpoint
import ThermosMonitor

/// How `thermos status` reads and prints a task's `probes.json` (the shape lives in
/// ThermosMonitor, shared with the observer).
extension ProbeStatusDocument {
    /// The document of a task, nil when there is none (no probes) or it cannot be read. Read
    /// bounded (`maximumSize`), non-blocking, without following a symlink, regular files only.
    static func load(root: String, taskID: String) -> ProbeStatusDocument? {
        let fd = open(TaskPath.probeStatus(root: root, taskID: taskID), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= maximumSize else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count == bytes.count else { return nil }
        return ProbeStatusDocument(bytes: bytes)
    }

    /// `ready, readiness passed (HTTP 200) at 12:00:01, liveness failed 2 in a row (exit 1) at 12:00:02`.
    func summary(of process: String) -> String? {
        guard let entry = processes[process] else { return nil }
        var parts: [String] = []
        if let ready = entry.ready { parts.append(ready ? "ready" : "not ready") }
        for (kind, outcome) in [("readiness", entry.readiness), ("liveness", entry.liveness)] {
            guard let outcome else { continue }
            parts.append(Self.describe(kind, outcome))
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    static func describe(_ kind: String, _ outcome: Outcome) -> String {
        let result = outcome.passed ? "passed" : "failed \(outcome.consecutive_failures) in a row"
        return "\(kind) \(result) (\(outcome.detail)) at \(TimeFormat.asctime(milliseconds: Int64(outcome.time * 1000)))"
    }
}
