import Glibc
import Testing
import ThermosPlatform
import ThermosRuntime
import ThermosTestSupport

/// The console's line format: names padded to the longest, `|` for stdout and `!` for stderr,
/// colours only when asked, nothing written once the reader is gone.
struct LogLinePrinterTests {
    /// Prints `lines` through a pipe and returns what came out.
    static func printed(_ processes: [String], colour: Bool, _ lines: [LogLine]) -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        var printer = LogLinePrinter(processes: processes, colour: colour, output: fds[1])
        for line in lines { printer.print(line) }
        printer.flush()
        close(fds[1])
        defer { close(fds[0]) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &chunk, chunk.count)
            guard count > 0 else { break }
            output += chunk[0..<count]
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func line(_ process: String, _ text: String) -> LogLine {
        line(process, .stdout, text)
    }

    static func line(_ process: String, _ stream: LogStream, _ text: String) -> LogLine {
        LogLine(process: process, run: 0, stream: stream, bytes: Array(text.utf8))
    }

    @Test func padsNamesToTheLongestAndMarksStderr() {
        let output = Self.printed(["web", "worker"], colour: false, [
            Self.line("web", "listening"), Self.line("worker", .stderr, "retrying"), Self.line("web", ""),
        ])
        #expect(output == "web    | listening\nworker ! retrying\nweb    | \n")
    }

    @Test func coloursThePrefixPerProcessAndResetsAfterEachLine() {
        let output = Self.printed(["a", "b"], colour: true, [Self.line("a", "x"), Self.line("b", .stderr, "\u{1B}[31my")])
        #expect(output == "\u{1B}[36ma |\u{1B}[0m x\u{1B}[0m\n\u{1B}[33mb \u{1B}[1;31m!\u{1B}[0m \u{1B}[31my\u{1B}[0m\n")
    }

    @Test func stopsWritingWhenTheReaderIsGone() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        var printer = LogLinePrinter(processes: ["p"], colour: false, output: fds[1])
        printer.print(Self.line("p", "lost"))
        printer.flush()
        #expect(printer.isClosed)
        close(fds[1])
        var pending = sigset_t()
        sigpending(&pending)
        if sigismember(&pending, SIGPIPE) == 1 {
            var signal: Int32 = 0
            sigwait(&blocked, &signal)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }
}
