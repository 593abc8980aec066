import Glibc
import Logging
import Testing
import ThermosLogging
import ThermosPlatform
import ThermosTestSupport

/// The runner's log lines keep the original's glog shape.
struct GlogHandlerTests {
    @Test func linesHaveTheGlogShape() throws {
        let directory = TemporaryDirectory(prefix: "thermos-glog")
        defer { directory.remove() }
        let path = directory.path + "/log"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(fd) }
        var logger = Logger(label: "runner") { GlogHandler(label: $0, level: .info, descriptor: fd) }
        logger.info("Forking Process(hello)")
        logger.debug("not shown at info")
        logger.warning("disk slow", metadata: ["path": "/x"])
        logger.logLevel = .debug
        logger.debug("shown at debug")
        let lines = try #require(Files.text(of: path)).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let pid = getpid()
        let shape = try Regex("^I\\d{4} \\d{2}:\\d{2}:\\d{2}\\.\\d{6} \(pid) runner\\] Forking Process\\(hello\\)$")
        #expect(lines[0].wholeMatch(of: shape) != nil, "\(lines[0])")
        #expect(lines[1].hasPrefix("W") && lines[1].hasSuffix(" runner] disk slow path=/x"))
        #expect(lines[2].hasPrefix("D") && lines[2].hasSuffix(" runner] shown at debug"))
    }
}
