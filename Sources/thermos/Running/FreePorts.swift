import ArgumentParser
import Glibc

/// `-P name:0` binds a free port of this machine (what `thermos submit`'s instances use):
/// the kernel picks an ephemeral port for each, all held open together so they differ.
func bindingFreePorts(_ ports: [String: Int]) throws(ExitCode) -> [String: Int] {
    var result = ports
    var sockets: [Int32] = []
    defer { sockets.forEach { close($0) } }
    for (name, port) in ports.sorted(by: { $0.key < $1.key }) where port == 0 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw fail("-P \(name):0: socket: \(String(cString: strerror(errno)))", code: RunExit.invalidInput) }
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = INADDR_ANY
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw fail("-P \(name):0: no free port: \(String(cString: strerror(errno)))", code: RunExit.invalidInput) }
        result[name] = Int(UInt16(bigEndian: address.sin_port))
    }
    return result
}
