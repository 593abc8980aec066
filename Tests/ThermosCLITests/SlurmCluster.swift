import Foundation
import Glibc
import ThermosTestSupport

/// The one-node Slurm cluster the Slurm tests run on: the one `.ci/run` started (`SLURM_CONF`
/// set), else one started once for this test process by `scripts/slurm-cluster.sh` (it stops
/// itself when this process ends).
enum TestSlurm {
    /// Slurm's daemons and client commands are installed (else the tests are skipped, visibly).
    static let installed: Bool = ["sbatch", "squeue", "scancel", "scontrol", "slurmctld", "slurmd", "munged"].allSatisfy { (tool: String) in
        ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].contains { (directory: String) in access(directory + tool, X_OK) == 0 }
    }

    static let skipReason = "Slurm is not installed here (apt-get install slurm-wlm munge; .ci/run does)"

    /// `SLURM_CONF` of the running cluster, or why there is none.
    static let configuration: Result<String, ClusterError> = {
        if let conf = ProcessInfo.processInfo.environment["SLURM_CONF"], !conf.isEmpty { return .success(conf) }
        let directory = TemporaryDirectory(prefix: "thermos-slurm").path + "/cluster"
        let result = CommandRunner.run(
            [TestPaths.repositoryRoot + "/scripts/slurm-cluster.sh", "start", directory, "--stop-with", String(getpid())], timeout: 60)
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last, line.hasPrefix("export SLURM_CONF=") else {
            return .failure(ClusterError(message: "scripts/slurm-cluster.sh start failed (\(result.status)): \(result.stderr)"))
        }
        return .success(String(line.dropFirst("export SLURM_CONF=".count)))
    }()

    struct ClusterError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func conf() throws -> String { try configuration.get() }

    /// Runs a Slurm client command against the cluster.
    static func run(_ arguments: [String]) throws -> CommandResult {
        CommandRunner.run(arguments, environment: ["SLURM_CONF": try conf(), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], timeout: 30)
    }
}

/// A scratch area for one Slurm test: root, job records, config files; the `thermos` environment.
struct SlurmFixture {
    let directory = TemporaryDirectory(prefix: "thermos-slurm-test")
    var root: String { directory.path + "/root" }
    var jobs: String { directory.path + "/jobs" }

    func environment() throws -> [String: String] {
        // THERMOS_PYTHON: `submit` loads `.aurora`/`.thermos` files with the DSL's Python.
        ["SLURM_CONF": try TestSlurm.conf(), "THERMOS_JOBS_DIR": jobs, "THERMOS_PYTHON": DSLTestPython.path]
    }

    func thermos(_ arguments: [String]) throws -> CommandResult {
        ThermosCLITests.thermos(arguments, environment: try environment())
    }

    /// `thermos submit --json`: the job id and the instances' task ids.
    func submit(_ config: String, _ extra: [String] = []) throws -> (job: Int, taskIDs: [String]) {
        let result = try thermos(["submit", "--root", root, "--json"] + extra + [config])
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            let job = object["job_id"] as? Int, let ids = object["task_ids"] as? [String]
        else { throw TestSlurm.ClusterError(message: "submit failed (\(result.status)): \(result.stdout) \(result.stderr)") }
        return (job, ids)
    }

    /// `thermos jobs --json JOB`: one dictionary per instance.
    func jobs(_ job: Int) throws -> [[String: Any]] {
        let result = try thermos(["jobs", "--json", String(job)])
        guard result.status == 0, let rows = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            throw TestSlurm.ClusterError(message: "jobs failed (\(result.status)): \(result.stdout) \(result.stderr)")
        }
        return rows
    }

    /// Polls `thermos jobs` (every 0.3 s) until `condition` holds for the rows; returns the last rows.
    func waitForJobs(_ job: Int, timeout: Double = 90, until condition: ([[String: Any]]) -> Bool) async throws -> [[String: Any]] {
        let deadline = monotonicNow() + timeout
        var rows = try jobs(job)
        while !condition(rows) && monotonicNow() < deadline {
            try await Task.sleep(for: .milliseconds(300))
            rows = try jobs(job)
        }
        return rows
    }

    func sandboxFile(_ taskID: String, _ name: String) -> String? {
        readBytes(root + "/sandbox/\(taskID)/\(name)").map { String(decoding: $0, as: UTF8.self) }
    }

    func remove() { directory.remove() }
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass, without holding a
/// thread of the test pool (long waits of blocking tests starve other suites' time limits).
func eventuallyAsync(timeout: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = monotonicNow() + timeout
    while monotonicNow() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

extension BackgroundCommand {
    /// `wait()` without holding a thread of the test pool.
    func waitAsync(timeout: Double = 90) async -> Int32 {
        let deadline = monotonicNow() + timeout
        while monotonicNow() < deadline {
            if !isRunning { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return wait(timeout: 1)
    }

    /// True while the command has not exited (a zombie counts as exited).
    var isRunning: Bool {
        guard let stat = readBytes("/proc/\(pid)/stat") else { return false }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        return !text[text.index(close, offsetBy: 2)...].hasPrefix("Z")
    }
}
