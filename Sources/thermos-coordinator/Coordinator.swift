import CThermosSys
import Glibc
import ThermosCheckpoint
import ThermosCoordination
import ThermosPlatform

/// One run of one process: waits for the runner's FORKED record, prepares identity, environment
/// and logs, runs `/bin/bash -c <cmdline>`, and records RUNNING and the end of the run in its
/// coordinator stream (reference §1.6, DESIGN §4).
struct Coordinator {
    let options: CoordinatorInvocation
    let stream: CheckpointWriter

    init(options: CoordinatorInvocation) {
        self.init(options: options, stream: CheckpointWriter(adopting: 3, path: options.checkpoint, policy: options.fsync))
    }

    /// A coordinator writing to `stream` (the fork server's warm-up uses one that writes nowhere).
    init(options: CoordinatorInvocation, stream: CheckpointWriter) {
        self.options = options
        self.stream = stream
    }

    /// The runner sends SIGTERM to our whole process group in CLEANING: the command must get
    /// it, we must survive it to record how the command ended. SIGKILL still ends us.
    static func ignoreTerminationSignals() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // The runner starts us with these blocked; ignoring them discards any already pending.
        var mask = sigset_t()
        sigemptyset(&mask)
        for blocked in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, blocked) }
        sigprocmask(SIG_UNBLOCK, &mask, nil)
    }

    func run() throws(CoordinatorFailure) -> Never {
        try awaitControl()
        do {
            try runCommand()
        } catch {
            // Reason first: once the end is recorded the runner may SIGKILL what is left of us.
            printError("thermos-coordinator[\(options.process)]: \(error.message)")
            recordSetupFailure(error)
            exit(error.exitStatus)
        }
    }

    /// Once in control, every failure to start the command is recorded as a run that started
    /// and failed with 127 (bash's "cannot execute"), so it counts against `max_failures`
    /// instead of being retried forever as LOST. The reason goes to the run's stderr log too.
    private func recordSetupFailure(_ failure: CoordinatorFailure) {
        let now = wallClock()
        let message = "thermos-coordinator: cannot start process \(options.process): \(failure.message)\n"
        let log = open(options.logDirectory + "/stderr", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if log >= 0 {
            // Best effort: the failure is recorded and printed whether or not the log takes it.
            try? Files.writeAll(log, message)
            close(log)
        }
        record(ProcessStatus(seq: options.seq + 1, process: options.process, state: .running, startTime: now, pid: getpid()))
        record(ProcessStatus(seq: options.seq + 2, process: options.process, state: .failed, stopTime: now, returnCode: 127))
        if stream.policy != .none { try? stream.sync() }
    }

    private func runCommand() throws(CoordinatorFailure) -> Never {
        let account = try resolveAccount()
        try prepareLogDirectory(owner: account.map { ($0.uid, $0.gid) })
        let outputs = try openOutputs(owner: account.map { ($0.uid, $0.gid) })
        if options.chroot {
            guard chdir(options.sandbox) == 0, Glibc.chroot(options.sandbox) == 0 else {
                throw .system("cannot chroot to \(options.sandbox): \(describeErrno(errno))")
            }
        }
        if let account { try become(account) }
        let environment = buildEnvironment(account: account)
        let workingDirectory = try enterWorkingDirectory(options.chroot ? "/" : (options.sandbox.isEmpty ? "/" : options.sandbox))
        let startTime = wallClock()
        let pid = try spawnCommand(outputs: outputs, environment: environment, directory: workingDirectory)
        outputs.closeChildEnds()
        record(ProcessStatus(seq: options.seq + 1, process: options.process, state: .running, startTime: startTime, pid: pid))
        if let pipes = outputs.pipes {
            relay(stdout: pipes.stdout, stderr: pipes.stderr, into: (outputs.sinks!.0, outputs.sinks!.1))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { break }
        }
        let returnCode = cthermos_wait_return_code(status)
        let state: ProcessState = returnCode == 0 ? .success : (returnCode > 0 ? .failed : .killed)
        record(ProcessStatus(
            seq: options.seq + 2, process: options.process, state: state, stopTime: wallClock(), returnCode: returnCode))
        if stream.policy == .always { try? stream.close() }
        exit(0)
    }

    /// Blocks until the runner released us (one byte) or died (EOF), then requires our FORKED
    /// record to be the last record of the stream: otherwise the runner never committed this run
    /// and nothing may be started.
    private func awaitControl() throws(CoordinatorFailure) {
        var byte: UInt8 = 0
        while read(options.handshakeFD, &byte, 1) < 0 && errno == EINTR {}
        close(options.handshakeFD)
        let stream: CheckpointStream
        do {
            stream = try CheckpointReader.read(path: options.checkpoint)
        } catch {
            throw .lostControl("Lost control of the checkpoint stream: \(error)")
        }
        guard case .processStatus(let last)? = stream.records.last, last.state == .forked, last.process == options.process,
            last.seq == options.seq, last.coordinatorPid == getpid(), last.forkTime == options.forkTime
        else {
            throw .lostControl("Lost control of the checkpoint stream \(options.checkpoint): no FORKED record for pid \(getpid())")
        }
    }

    /// Writes a record; it is visible to the runner at once, and synced afterwards per policy.
    private func record(_ status: ProcessStatus) {
        do {
            try stream.appendVisible(.processStatus(status))
            // Under `group` the runner's stream, which muxes this record, carries durability.
            if stream.policy == .always { try stream.sync() }
        } catch {
            printError("thermos-coordinator[\(options.process)]: \(error)")
        }
    }

    struct Account {
        var name: String
        var uid: uid_t
        var gid: gid_t
        var home: String
    }

    /// The target user's account when it differs from ours (nil when we already are that user).
    private func resolveAccount() throws(CoordinatorFailure) -> Account? {
        guard let user = options.user else { return nil }
        guard let entry = getpwnam(user) else { throw .system("Unknown user \(user): no passwd entry") }
        let account = Account(
            name: user, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, home: String(cString: entry.pointee.pw_dir))
        if account.uid == getuid() { return nil }
        guard geteuid() == 0 else { throw .system("Must be root to run processes as other users! (user \(user))") }
        return account
    }

    private func become(_ account: Account) throws(CoordinatorFailure) {
        guard initgroups(account.name, account.gid) == 0, setgid(account.gid) == 0, setuid(account.uid) == 0 else {
            throw .system("cannot switch to user \(account.name): \(describeErrno(errno))")
        }
    }

    private func prepareLogDirectory(owner: (uid_t, gid_t)?) throws(CoordinatorFailure) {
        guard options.destination != .none && options.destination != .console else { return }
        do {
            try Files.makeDirectories(options.logDirectory)
        } catch {
            throw .system("cannot create log directory \(options.logDirectory): \(error)")
        }
        if let (uid, gid) = owner { _ = chown(options.logDirectory, uid, gid) }
    }
}

/// Writes one line to our stderr.
func printError(_ message: String) {
    try? Files.writeAll(2, message + "\n")
}

extension Coordinator {
    /// Runs the coordinator of the invocation `arguments` (after the binary path) to its end:
    /// the one entry point of a coordinator started for its run and of a forked one.
    static func main(arguments: [String]) -> Never {
        let invocation: CoordinatorInvocation
        do {
            invocation = try CoordinatorInvocation(arguments: arguments)
        } catch {
            let failure = CoordinatorFailure.usage(error.message)
            printError("thermos-coordinator: \(failure.message)")
            exit(failure.exitStatus)
        }
        do {
            try Coordinator(options: invocation).run()
        } catch {
            printError("thermos-coordinator[\(invocation.process)]: \(error.message)")
            exit(error.exitStatus)
        }
    }
}
