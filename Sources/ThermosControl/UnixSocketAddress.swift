public import Glibc

/// A unix socket path as a `sockaddr_un`, for both ends of the control socket. A path longer
/// than `sun_path` (108 bytes; deep temp roots and long task ids reach it) is reached through
/// its directory: `/proc/self/fd/<dirfd>/<name>`, which bind and connect resolve like any path.
public enum UnixSocketAddress {
    /// Calls `body` with the address of `path` (and its length); returns what `body` returns,
    /// or -1 with `errno` set when the directory of a long path cannot be opened.
    public static func with(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        if path.utf8.count < capacity { return withShort(path, body) }
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) ?? path.utf8.startIndex
        let directory = String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        let short = "/proc/self/fd/\(fd)/\(name)"
        guard short.utf8.count < capacity else {
            errno = ENAMETOOLONG
            return -1
        }
        return withShort(short, body)
    }

    private static func withShort(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
