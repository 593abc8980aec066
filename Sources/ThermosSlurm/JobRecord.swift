import Foundation

/// What `thermos submit` recorded about one job array. Slurm forgets finished jobs (after
/// MinJobAge, and there is no history without accounting), so `thermos jobs` and
/// `thermos cancel` work from these records.
public struct JobRecord: Codable, Sendable, Equatable {
    public var jobID: Int
    public var name: String
    public var nonce: String
    public var instances: Int
    public var root: String
    public var sandboxRoot: String
    /// Where the snapshot, the batch script and the instances' Slurm output live.
    public var directory: String
    /// Seconds since the epoch.
    public var submittedAt: Double
    /// The port of the observer on each node (for `thermos jobs` when the root is not reachable).
    public var observerPort: Int
    /// The last node and Slurm state `thermos jobs` saw per instance (Slurm drops finished jobs).
    public var lastSeen: [String: Sighting] = [:]

    /// Where and in which Slurm state an instance was last seen.
    public struct Sighting: Codable, Sendable, Equatable {
        public var node: String?
        public var slurmState: String

        public init(node: String?, slurmState: String) {
            self.node = node
            self.slurmState = slurmState
        }
    }

    public init(
        jobID: Int, name: String, nonce: String, instances: Int, root: String, sandboxRoot: String, directory: String,
        submittedAt: Double, observerPort: Int
    ) {
        self.jobID = jobID
        self.name = name
        self.nonce = nonce
        self.instances = instances
        self.root = root
        self.sandboxRoot = sandboxRoot
        self.directory = directory
        self.submittedAt = submittedAt
        self.observerPort = observerPort
    }

    public func taskID(instance: Int) -> String {
        SlurmNames.taskID(name: name, jobID: jobID, instance: instance, nonce: nonce)
    }
}

/// The directory of job records: `$THERMOS_JOBS_DIR`, else `$XDG_STATE_HOME/thermos/jobs`,
/// else `~/.local/state/thermos/jobs`. One file per job id (`<id>.json`); a job id Slurm
/// reuses replaces the old record (the old job is gone from Slurm by then).
public struct JobStore: Sendable {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public static func standard(environment: [String: String]? = nil) -> JobStore {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let explicit = environment["THERMOS_JOBS_DIR"], !explicit.isEmpty { return JobStore(directory: explicit) }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return JobStore(directory: state + "/thermos/jobs") }
        return JobStore(directory: (environment["HOME"] ?? "/root") + "/.local/state/thermos/jobs")
    }

    func path(_ jobID: Int) -> String { "\(directory)/\(jobID).json" }

    /// Writes the record atomically (temporary file + rename).
    public func save(_ record: JobRecord) throws(SlurmError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try encoder.encode(record).write(to: URL(fileURLWithPath: path(record.jobID)), options: .atomic)
        } catch {
            throw SlurmError(.records, "cannot write the job record \(path(record.jobID)): \(error.localizedDescription) (set THERMOS_JOBS_DIR to a writable directory)")
        }
    }

    /// The record of `jobID`, or nil when there is none.
    public func load(_ jobID: Int) throws(SlurmError) -> JobRecord? {
        let file = path(jobID)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        do {
            return try JSONDecoder().decode(JobRecord.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw SlurmError(.records, "\(file): not a job record (\(error.localizedDescription)); remove it")
        }
    }

    /// Every record, oldest job first.
    public func all() throws(SlurmError) -> [JobRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var records: [JobRecord] = []
        for name in names where name.hasSuffix(".json") {
            if let id = Int(name.dropLast(5)), let record = try load(id) { records.append(record) }
        }
        return records.sorted { ($0.submittedAt, $0.jobID) < ($1.submittedAt, $1.jobID) }
    }
}

/// A failure of a Slurm command or of the job records, with what to do about it.
public struct SlurmError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable {
        /// A Slurm command is missing, failed, or printed something unexpected.
        case command
        /// A job record cannot be read or written.
        case records
        /// The request names no job or instance we know.
        case unknownJob
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
