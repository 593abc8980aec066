import Glibc
import ThermosPlatform

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
    SystemWallClock().now()
}
