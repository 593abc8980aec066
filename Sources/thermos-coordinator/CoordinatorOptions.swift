import Glibc

/// The command line of `thermos-coordinator`, written by the runner (never by people).
/// Parsed by hand: the coordinator links no Foundation and no argument-parser.
struct CoordinatorOptions {
    /// The run's coordinator stream; the runner passes it open, locked and in append mode as fd 3.
    var checkpoint = ""
    /// Read end of the handshake pipe: one byte (or EOF) once the runner wrote our FORKED record.
    var handshakeFD: Int32 = 4
    var process = ""
    /// `seq` of the FORKED record the runner wrote; RUNNING is `seq + 1`, the end `seq + 2`.
    var seq: Int64 = 0
    var forkTime: Double = 0
    var cmdline = ""
    var sandbox = ""
    /// `<log_dir>/<process>/<run>`.
    var logDirectory = ""
    /// Run as this user (requires root when it differs from ours).
    var user: String?
    var chroot = false
    var preserveEnvironment = false
    var destination = "file"
    var mode = "standard"
    var rotateSize: Int64 = 100 * 1024 * 1024
    var rotateBackups = 5
    var fsync = "always"
    /// The runner's user name and home, so that a run as the runner's own user needs no passwd lookup.
    var runnerUser: String?
    var runnerHome: String?

    static func parse(_ arguments: [String]) -> Result<CoordinatorOptions, CoordinatorFailure> {
        var options = CoordinatorOptions()
        var index = 1
        func value() -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }
        while index < arguments.count {
            let flag = arguments[index]
            let takesValue = flag != "--chroot" && flag != "--preserve-env"
            let argument = takesValue ? value() : ""
            guard let argument else { return .failure(.usage("\(flag) needs a value")) }
            switch flag {
            case "--checkpoint": options.checkpoint = argument
            case "--handshake-fd": options.handshakeFD = Int32(argument) ?? -1
            case "--process": options.process = argument
            case "--seq": options.seq = Int64(argument) ?? -1
            case "--fork-time": options.forkTime = Double(argument) ?? 0
            case "--cmdline": options.cmdline = argument
            case "--sandbox": options.sandbox = argument
            case "--log-dir": options.logDirectory = argument
            case "--user": options.user = argument
            case "--chroot": options.chroot = true
            case "--preserve-env": options.preserveEnvironment = true
            case "--logger-destination": options.destination = argument
            case "--logger-mode": options.mode = argument
            case "--rotate-size": options.rotateSize = Int64(argument) ?? -1
            case "--rotate-backups": options.rotateBackups = Int(argument) ?? -1
            case "--fsync": options.fsync = argument
            case "--runner-user": options.runnerUser = argument
            case "--runner-home": options.runnerHome = argument
            default: return .failure(.usage("unknown flag \(flag)"))
            }
            index += 1
        }
        if options.checkpoint.isEmpty || options.process.isEmpty || options.seq < 0 || options.logDirectory.isEmpty {
            return .failure(.usage("--checkpoint, --process, --seq and --log-dir are required"))
        }
        guard ["file", "console", "both", "none"].contains(options.destination) else {
            return .failure(.usage("invalid logger destination \(options.destination)"))
        }
        guard ["standard", "rotate"].contains(options.mode) else {
            return .failure(.usage("invalid logger mode \(options.mode)"))
        }
        if options.mode == "rotate" {
            if options.rotateSize < 1 { return .failure(.usage("Log size cannot be less than one byte.")) }
            if options.rotateBackups < 1 { return .failure(.usage("Log backups cannot be less than one.")) }
        }
        return .success(options)
    }
}

/// Why the coordinator gave up, with the exit status it uses.
enum CoordinatorFailure: Error {
    /// Bad command line (a runner/coordinator version mismatch): exit 64.
    case usage(String)
    /// The runner never recorded our FORKED record (it died first): exit 75, nothing was run.
    case lostControl(String)
    /// A system call failed before the command could start: exit 71.
    case system(String)

    var exitStatus: Int32 {
        switch self {
        case .usage: 64
        case .lostControl: 75
        case .system: 71
        }
    }

    var message: String {
        switch self {
        case .usage(let text): "usage: \(text)"
        case .lostControl(let text): text
        case .system(let text): text
        }
    }
}

/// `strerror` of an errno as a Swift string.
func describeErrno(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Seconds since the epoch, as Thermos records times.
func wallClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
