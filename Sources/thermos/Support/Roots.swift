import ArgumentParser
import Glibc
import ThermosCheckpoint

/// `--root`, repeatable; defaults to `$THERMOS_ROOT` or `/var/run/thermos`.
struct RootOptions: ParsableArguments {
    @Option(
        name: [.customLong("root")],
        help: ArgumentHelp("A Thermos checkpoint root (repeatable).", valueName: "dir"))
    var explicitRoots: [String] = []

    /// The roots to scan: the `--root` values, else `$THERMOS_ROOT`, else `/var/run/thermos`
    /// (and the per-user root for a user who cannot write it: `DefaultRoot`).
    var roots: [String] {
        explicitRoots.isEmpty ? DefaultRoot.forReading() : explicitRoots
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Fails the command with `message` on stderr and exit status `code`.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    printError(message)
    return ExitCode(code)
}

/// True if `path` names an existing regular file.
func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// The user name owning `path` (as the original's `status` shows), or `uid:<n>`.
func ownerName(of path: String) -> String {
    var info = stat()
    guard stat(path, &info) == 0 else { return "unknown" }
    return userName(uid: info.st_uid)
}

/// The user name of `uid`, or `uid:<n>` when it has no passwd entry.
func userName(uid: uid_t) -> String {
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
        return "uid:\(uid)"
    }
    return String(cString: name)
}
