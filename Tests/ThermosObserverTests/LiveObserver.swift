import Foundation
import Glibc
import ThermosTestSupport

/// A running `thermos-observer` on a free port (`--port 0`, read back from its banner),
/// stopped with SIGTERM by `stop()`.
final class LiveObserver: @unchecked Sendable {  // `command` is only used from the test's thread.
    let command: BackgroundCommand
    let port: Int

    init?(_ arguments: [String], directory: String, binary: String = "thermos-observer") {
        let command = BackgroundCommand(
            [TestPaths.builtBinary(binary)] + (binary == "thermos" ? ["observer"] : []) + arguments + ["--port", "0"],
            outputPrefix: directory + "/observer-\(UInt32.random(in: 0...UInt32.max))")
        self.command = command
        var found: Int?
        _ = eventually(timeout: 30) {
            let out = command.stdout
            guard let range = out.range(of: "http://127.0.0.1:") else { return false }
            found = Int(out[range.upperBound...].prefix { $0.isNumber })
            return found != nil
        }
        guard let found else {
            command.signal(SIGKILL)
            command.wait()
            return nil
        }
        port = found
    }

    /// SIGTERM, then the exit status (SIGKILL after `timeout`).
    @discardableResult
    func stop(timeout: Double = 20) -> Int32 {
        command.signal(SIGTERM)
        return command.wait(timeout: timeout)
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// `VmHWM` (peak resident set) in KiB.
    var peakRSSKiB: Int {
        let status = String(decoding: readBytes("/proc/\(command.pid)/status") ?? [], as: UTF8.self)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }

    /// `curl -s` of a path (body only).
    func get(_ path: String, _ extra: [String] = []) -> String {
        CommandRunner.run(["curl", "-s", "--max-time", "20"] + extra + [base + path], timeout: 30).stdout
    }
}

/// A raw TCP connection to 127.0.0.1 with a receive timeout, for speaking HTTP by hand.
struct RawConnection {
    let fd: Int32

    init?(port: Int, receiveTimeout: Double = 10) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
    }

    func send(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes (true) or the receive timeout passes (false).
    func readToEnd() -> (text: String, closed: Bool) {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                bytes += buffer.prefix(count)
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return (String(decoding: bytes, as: UTF8.self), count == 0 || (count < 0 && errno == ECONNRESET))
        }
    }

    /// Reads until `marker` has been seen (or the timeout).
    func read(until marker: String) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: bytes, as: UTF8.self).contains(marker) {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += buffer.prefix(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func close() { Glibc.close(fd) }
}
