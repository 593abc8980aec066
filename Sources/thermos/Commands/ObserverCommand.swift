import ArgumentParser
import Glibc

/// `thermos observer`: runs the `thermos-observer` executable that sits beside `thermos`
/// (same arguments), so the HTTP server stack is never linked into the CLI or the runner.
struct ObserverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observer",
        abstract: "Serve the Thermos observer (web UI, Aurora-compatible JSON API, /metrics).",
        discussion: "Runs thermos-observer from the same directory with these arguments; `thermos-observer --help` lists its options."
    )

    @Argument(parsing: .allUnrecognized, help: "Options of thermos-observer.")
    var arguments: [String] = []

    func run() throws {
        let binary = Self.siblingPath("thermos-observer")
        guard access(binary, X_OK) == 0 else {
            throw fail("thermos observer: \(binary) is missing or not executable (build it: swift build --product thermos-observer)", code: 2)
        }
        // exec keeps the pid; the observer starts with a clean signal state (this process may
        // have blocked or ignored signals the observer's service group needs).
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT] { Glibc.signal(signal, SIG_DFL) }
        let argv = [binary] + arguments
        var pointers = argv.map { strdup($0) } + [nil]
        execv(binary, &pointers)
        throw fail("thermos observer: cannot run \(binary): \(String(cString: strerror(errno)))", code: 2)
    }

    /// `<directory of /proc/self/exe>/<name>`.
    static func siblingPath(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = count > 0 ? String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let directory = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/" + name
    }
}
