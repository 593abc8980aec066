import Foundation
import Glibc
import OrderedCollections
import ThermosCheckpoint
import ThermosTestSupport

/// A root on `scripts/lazyfs.py`, the test's own FUSE filesystem that keeps unsynced writes in
/// memory: `cut()` is a power cut (unsynced data gone, optionally a torn prefix kept), `remount()`
/// the reboot. Needs /dev/fuse and Debian's python3-fusepy (`.ci/run` installs them).
final class LazyFSMount {
    let backing: String
    let mountpoint: String
    private let arguments: [String]
    private let logPrefix: String
    private var daemon: BackgroundCommand?

    static let script = TestPaths.repositoryRoot + "/scripts/lazyfs.py"

    /// Why the FUSE tests cannot run here, or nil when they can.
    static var unavailable: String? {
        if access("/dev/fuse", R_OK | W_OK) != 0 { return "/dev/fuse is not usable" }
        let probe = CommandRunner.run(["/usr/bin/python3", "-c", "import fusepy"])
        if probe.status != 0 { return "python3-fusepy is missing (apt-get install fuse3 python3-fusepy)" }
        return nil
    }

    init(directory: String, _ arguments: [String] = []) {
        backing = directory + "/backing"
        mountpoint = directory + "/mnt"
        logPrefix = directory + "/lazyfs"
        self.arguments = arguments
        mkdir(backing, 0o755)
        mkdir(mountpoint, 0o755)
    }

    /// Starts the daemon and waits until the mount is up; false if it did not come up.
    @discardableResult
    func mount() -> Bool {
        daemon = BackgroundCommand(
            ["/usr/bin/python3", Self.script, backing, mountpoint] + arguments, outputPrefix: logPrefix + "-\(Int.random(in: 0...999_999))")
        return eventually(timeout: 20) { self.isMounted }
    }

    var isMounted: Bool {
        let mounts = String(decoding: readBytes("/proc/self/mountinfo") ?? [], as: UTF8.self)
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == mountpoint }
    }

    /// The power cut: pending data is dropped (or a torn part kept, with `--torn`), the daemon
    /// exits, and the dead mount is detached.
    func cut() {
        let fd = open(mountpoint + "/.lazyfs-cut", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd >= 0 { close(fd) }
        daemon?.wait(timeout: 20)
        daemon = nil
        unmount()
    }

    /// Clears every `--fail` rule.
    func heal() {
        let fd = open(mountpoint + "/.lazyfs-heal", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd >= 0 { close(fd) }
    }

    /// The report of the last cut: per file, bytes written, synced, and kept after the cut.
    func report() -> [String: [String: Int]] {
        guard let data = FileManager.default.contents(atPath: backing + "/.lazyfs-report.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Int]]
        else { return [:] }
        return object
    }

    func unmount() {
        _ = CommandRunner.run(["fusermount", "-u", "-z", mountpoint])
        if let daemon {
            daemon.signal(SIGTERM)
            daemon.wait(timeout: 10)
        }
        daemon = nil
    }

    var daemonLog: String { daemon?.stderr ?? "" }
}

/// The processes of one task on this machine, and nothing else: the runner and its descendants,
/// plus every process whose command line names the task's unique sandbox (coordinators) or whose
/// working directory is in it (the commands), with their descendants.
enum TaskProcesses {
    static func find(sandbox: String, runner: Int32?) -> Set<Int32> {
        var parents: [Int32: Int32] = [:]
        var roots = Set<Int32>()
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != getpid() else { continue }
            guard let stat = readBytes("/proc/\(pid)/stat").map({ String(decoding: $0, as: UTF8.self) }),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", let parent = Int32(fields[1]) else { continue }
            parents[pid] = parent
            if pid == runner { roots.insert(pid); continue }
            let cmdline = String(decoding: (readBytes("/proc/\(pid)/cmdline") ?? []).map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            var buffer = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/\(pid)/cwd", &buffer, buffer.count - 1)
            let cwd = count > 0 ? String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            if cmdline.contains(sandbox) || cwd == sandbox || cwd.hasPrefix(sandbox + "/") { roots.insert(pid) }
        }
        var found = roots
        var changed = true
        while changed {
            changed = false
            for (pid, parent) in parents where !found.contains(pid) && found.contains(parent) {
                found.insert(pid)
                changed = true
            }
        }
        return found
    }

    /// Freezes, then SIGKILLs every process of the task, until none is left.
    static func killAll(sandbox: String, runner: Int32?) {
        for _ in 0..<50 {
            let pids = find(sandbox: sandbox, runner: runner)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGSTOP) }
            for pid in find(sandbox: sandbox, runner: runner) { kill(pid, SIGKILL) }
            usleep(20_000)
        }
    }
}

/// Decodes `path` with the independent Python reader; nil when it decodes, else its complaint.
func pythonReaderComplaint(_ path: String) -> String? {
    let result = CommandRunner.run(["python3", TestPaths.pythonReader, path])
    return result.status == 0 ? nil : "\(path): \(result.stderr)\(result.stdout.suffix(300))"
}

/// A task root and sandbox of a fault test, the root possibly on a `LazyFSMount`.
struct FaultRoot {
    let root: String
    let sandbox: String

    func run(_ config: String, taskID: String, _ extra: [String] = [], environment: [String: String] = [:]) -> CommandResult {
        thermos(["run", "--root", root, "--sandbox", sandbox, "--task-id", taskID] + extra + [config], environment: environment)
    }

    func start(_ config: String, taskID: String, _ extra: [String] = [], outputPrefix: String) -> BackgroundCommand {
        BackgroundCommand(
            [TestPaths.builtBinary("thermos"), "run", "--root", root, "--sandbox", sandbox, "--task-id", taskID] + extra + [config],
            environment: ["TZ": "UTC"], outputPrefix: outputPrefix)
    }

    func runnerCheckpoint(_ taskID: String) -> String { TaskPath.runnerCheckpoint(root: root, taskID: taskID) }

    func state(_ taskID: String) -> RunnerState {
        (try? RunnerState.replaying(path: runnerCheckpoint(taskID)).state) ?? RunnerState()
    }

    func taskFileExists(_ taskID: String, _ state: TaskPath.TaskDirectory) -> Bool {
        access(TaskPath.taskFile(root: root, taskID: taskID, state: state), F_OK) == 0
    }

    /// Every checkpoint stream of the task (runner and coordinators).
    func streams(_ taskID: String) -> [String] {
        let directory = TaskPath.checkpointDirectory(root: root, taskID: taskID)
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var paths: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "runner" || name.hasPrefix("coordinator.") { paths.append(directory + "/" + name) }
        }
        return paths.sorted()
    }

    /// Lines of a side-effect file in the sandbox (one line per run of a process).
    func lines(_ relative: String) -> [String] {
        String(decoding: readBytes(sandbox + "/" + relative) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
