import Glibc

/// A fresh directory under `$TMPDIR` (or /tmp) for one test; removed with `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "thermos-test") {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed: errno \(errno)")
        path = String(cString: created!)
    }

    /// Writes `contents` to `name` inside the directory (creating parent directories) and returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: [UInt8]) -> String {
        let full = path + "/" + name
        _ = CommandRunner.run(["mkdir", "-p", String(full[..<full.lastIndex(of: "/")!])])
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot create \(full): errno \(errno)")
        contents.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return full
    }

    /// Writes UTF-8 text.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        write(name, Array(text.utf8))
    }

    /// Deletes the directory tree.
    public func remove() {
        _ = CommandRunner.run(["rm", "-rf", path])
    }
}

/// Reads a whole file as bytes (nil if it cannot be opened).
public func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        result.append(contentsOf: chunk[0..<count])
    }
    return result
}
