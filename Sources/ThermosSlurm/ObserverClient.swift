import Foundation
import Glibc

/// Reads task states from a node's observer JSON API (`/j/task?task_id=a,b,…`) when the
/// checkpoint root is not reachable from here. One request per node for all its tasks.
public struct ObserverClient: Sendable {
    public var timeout: Double

    public init(timeout: Double = 5) {
        self.timeout = timeout
    }

    /// Task id → state name for the ids the observer knows (an id it does not know yet — an
    /// instance that has not started — is left out).
    public func states(host: String, port: Int, taskIDs: [String]) throws(SlurmError) -> [String: String] {
        guard !taskIDs.isEmpty else { return [:] }
        let (status, body) = try get(host: host, port: port, path: "/j/task?task_id=" + taskIDs.joined(separator: ","))
        if status == 200 { return Self.parseStates(body) }
        // The observer answers 404 for the whole batch if one id is unknown: ask one by one.
        guard status == 404, taskIDs.count > 1 else { return [:] }
        var states: [String: String] = [:]
        for id in taskIDs {
            states.merge(try self.states(host: host, port: port, taskIDs: [id])) { $1 }
        }
        return states
    }

    /// `{"id": {"state": "RUNNING", …}, …}` → id → state.
    static func parseStates(_ body: [UInt8]) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [:] }
        var states: [String: String] = [:]
        for (id, value) in object {
            if let state = (value as? [String: Any])?["state"] as? String { states[id] = state }
        }
        return states
    }

    /// A plain HTTP/1.0 GET; returns the status and the body.
    func get(host: String, port: Int, path: String) throws(SlurmError) -> (Int, [UInt8]) {
        let where_ = "observer http://\(host):\(port)\(path)"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw SlurmError(.command, "\(where_): cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SlurmError(.command, "\(where_): socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw SlurmError(.command, "\(where_): cannot connect: \(String(cString: strerror(errno))) (is `thermos observer` running there?)")
        }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw SlurmError(.command, "\(where_): cannot send the request")
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                response += chunk[0..<count]
                guard response.count < 64 << 20 else { throw SlurmError(.command, "\(where_): response over 64 MiB") }
            } else if count == 0 {
                break
            } else if errno != EINTR {
                throw SlurmError(.command, "\(where_): \(String(cString: strerror(errno)))")
            }
        }
        return try Self.parseResponse(response, context: where_)
    }

    /// Splits an HTTP response into status and body (de-chunking a chunked body).
    static func parseResponse(_ response: [UInt8], context: String) throws(SlurmError) -> (Int, [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, response.count - 3)).first(where: { Array(response[$0..<$0 + 4]) == separator }) else {
            throw SlurmError(.command, "\(context): not an HTTP response")
        }
        let head = String(decoding: response[..<end], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw SlurmError(.command, "\(context): bad status line \(statusLine)") }
        var body = Array(response[(end + 4)...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (status, body)
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < data.count {
            guard let lineEnd = (index..<max(index, data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: data[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingSpaces(), radix: 16), size > 0, lineEnd + 2 + size <= data.count else { break }
            result += data[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
        return result
    }
}
