import Foundation
import Glibc
import ThermosCheckpoint

/// The probe results a runner publishes in `checkpoints/<id>/probes.json` (our extension),
/// as `status` shows them. Read bounded (256 KiB) and without following a symlink.
struct ProbeStatusDocument: Codable, Equatable {
    /// One probe's last attempt.
    struct Outcome: Codable, Equatable {
        var run: Int
        var passed: Bool
        var detail: String
        var time: Double
        var consecutive_failures: Int
    }

    /// A process's probes: `ready` only when it has a readiness probe.
    struct Process: Codable, Equatable {
        var ready: Bool?
        var readiness: Outcome?
        var liveness: Outcome?
    }

    var processes: [String: Process]
    var health: Outcome?

    static let maximumSize = 256 * 1024

    /// The document of a task, nil when there is none (no probes) or it cannot be read.
    static func load(root: String, taskID: String) -> ProbeStatusDocument? {
        let fd = open(TaskPath.probeStatus(root: root, taskID: taskID), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= maximumSize else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count == bytes.count else { return nil }
        return try? JSONDecoder().decode(ProbeStatusDocument.self, from: Data(bytes))
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
