import CThermosConfine
import CThermosSys
import Glibc
import ThermosCoordination
import ThermosPlatform

/// The command's stdout/stderr: fds handed to the child, plus pipes and sinks when relayed.
struct CommandOutputs {
    /// `/dev/null`, opened before any chroot (the new root need not have one), as the child's stdin.
    var stdin: Int32 = open("/dev/null", O_RDONLY | O_CLOEXEC)
    /// The fds the child gets as 1 and 2.
    var childStdout: Int32
    var childStderr: Int32
    /// Read ends when the coordinator relays (rotate, both).
    var pipes: (stdout: Int32, stderr: Int32)?
    var sinks: (LogSink, LogSink)?
    /// Fds to close in the coordinator once the child has them.
    var closeAfterSpawn: [Int32] = []

    func closeChildEnds() {
        for fd in closeAfterSpawn { close(fd) }
    }
}

extension Coordinator {
    /// Opens the outputs the logger configuration asks for (reference §1.6 "Logging").
    func openOutputs(owner: (uid_t, gid_t)?) throws(CoordinatorFailure) -> CommandOutputs {
        let stdoutPath = options.logDirectory + "/stdout"
        let stderrPath = options.logDirectory + "/stderr"
        switch (options.destination, options.mode) {
        case (.file, .standard):
            let out = try LogSink.open(stdoutPath, truncate: false, owner: owner)
            let err = try LogSink.open(stderrPath, truncate: false, owner: owner)
            return CommandOutputs(childStdout: out, childStderr: err, closeAfterSpawn: [out, err])
        case (.console, _):
            return CommandOutputs(childStdout: 1, childStderr: 2)
        case (.none, _):
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            return CommandOutputs(childStdout: null, childStderr: null, closeAfterSpawn: [null])
        default:
            // file+rotate, both: relay through pipes.
            let rotation = options.mode == .rotate ? (options.rotateSize, options.rotateBackups) : nil
            let tee = options.destination == .both
            let out = try LogSink(path: stdoutPath, console: tee ? 1 : nil, rotation: rotation, owner: owner)
            let err = try LogSink(path: stderrPath, console: tee ? 2 : nil, rotation: rotation, owner: owner)
            var outPipe: [Int32] = [0, 0]
            var errPipe: [Int32] = [0, 0]
            guard cthermos_pipe2(&outPipe, O_CLOEXEC) == 0, cthermos_pipe2(&errPipe, O_CLOEXEC) == 0 else {
                throw .system("cannot create pipes: \(describeErrno(errno))")
            }
            return CommandOutputs(
                childStdout: outPipe[1], childStderr: errPipe[1], pipes: (outPipe[0], errPipe[0]), sinks: (out, err),
                closeAfterSpawn: [outPipe[1], errPipe[1]])
        }
    }

    /// `HOME`, `LOGNAME`, `USER`, `PATH` (+ `BASH_ENV` when `<sandbox>/.thermos_profile` exists);
    /// with `--preserve-env`, on top of our own environment.
    func buildEnvironment(account: Account?) -> [String] {
        var environment: [(String, String)] = []
        var inherited: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let key = String(text[..<equals])
                inherited[key] = String(text[text.index(after: equals)...])
                if options.preserveEnvironment { environment.append((key, inherited[key]!)) }
            }
            pointer += 1
        }
        let userName = account?.name ?? options.user ?? options.runnerUser ?? currentUserName()
        let home: String
        if options.chroot || options.sandbox.isEmpty {
            home = account?.home ?? options.runnerHome ?? currentHome()
        } else {
            home = options.sandbox
        }
        var fixed: [(String, String)] = [
            ("HOME", home), ("LOGNAME", userName), ("USER", userName),
            ("PATH", inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"),
        ]
        // Called after chroot, so inside a chroot the sandbox is "/".
        let profile = (options.chroot || options.sandbox.isEmpty ? "" : options.sandbox) + "/.thermos_profile"
        var info = stat()
        if stat(profile, &info) == 0 { fixed.append(("BASH_ENV", profile)) }
        let fixedKeys = Set(fixed.map(\.0))
        environment.removeAll { fixedKeys.contains($0.0) || $0.0 == "BASH_ENV" }
        // The process's own `env` (our extension) comes last and wins.
        let ownKeys = Set(options.environment.map(\.key))
        let combined = (environment + fixed).filter { !ownKeys.contains($0.0) } + options.environment.map { ($0.key, $0.value) }
        return combined.map { "\($0.0)=\($0.1)" }
    }

    private func currentUserName() -> String {
        if let entry = getpwuid(getuid()) { return String(cString: entry.pointee.pw_name) }
        return "uid\(getuid())"
    }

    private func currentHome() -> String {
        if let entry = getpwuid(getuid()) { return String(cString: entry.pointee.pw_dir) }
        return "/"
    }

    /// `posix_spawn`s `/bin/bash -c <cmdline>` in our session and process group, with a clean
    /// signal state and only fds 0–2.
    func spawnCommand(outputs: CommandOutputs, environment: [String], directory: String) throws(CoordinatorFailure) -> pid_t {
        var request = SpawnRequest(executable: "/bin/bash", arguments: ["/bin/bash", "-c", options.cmdline], environment: environment)
        request.descriptors = [0: .inherit(outputs.stdin), 1: .inherit(outputs.childStdout), 2: .inherit(outputs.childStderr)]
        request.directory = directory
        do {
            return try request.spawn()
        } catch {
            throw .system("cannot start /bin/bash: \(error)")
        }
    }
}

extension Coordinator {
    /// The command's directory: `base` (the sandbox, or `/` in a chroot), or the process's `cwd`
    /// (our extension) opened beneath it with `openat2(RESOLVE_BENEATH)` as the task's user and
    /// entered by fd, so a symlink the task swaps in cannot lead the command out of its sandbox.
    func enterWorkingDirectory(_ base: String) throws(CoordinatorFailure) -> String {
        guard let cwd = options.cwd, !cwd.isEmpty, cwd != "." else { return base }
        let root = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw .system("cannot open the sandbox \(base): \(describeErrno(errno))") }
        defer { close(root) }
        let directory = cthermos_openat2(root, cwd, UInt64(O_RDONLY | O_DIRECTORY | O_CLOEXEC), cthermos_RESOLVE_BENEATH_NO_MAGICLINKS)
        guard directory >= 0 else {
            throw .system("cannot enter cwd \(cwd) inside the sandbox: \(describeErrno(errno))")
        }
        defer { close(directory) }
        guard fchdir(directory) == 0 else { throw .system("cannot enter cwd \(cwd): \(describeErrno(errno))") }
        return "."
    }
}
