import Glibc

/// `du`-style disk usage: Σ 512·`st_blocks` of the regular files under a directory. The walk
/// goes from descriptor to descriptor (`openat(O_NOFOLLOW)`, `fstatat(AT_SYMLINK_NOFOLLOW)`):
/// a link, or a directory a task swaps for a link mid-walk, is never followed out of the tree.
/// At most `maximumDepth` levels are walked (one descriptor open per level).
public enum DiskUsage {
    /// The result of one walk.
    public struct Measurement: Sendable, Hashable {
        public var bytes: Int64
        /// False when the deadline stopped the walk early (`bytes` is then a lower bound).
        public var complete: Bool
    }

    public static let maximumDepth = 256

    /// Measures `path`; stops at `deadline` (seconds since the epoch) if given.
    public static func measure(_ path: String, deadline: Double? = nil) -> Measurement {
        var info = stat()
        guard lstat(path, &info) == 0 else { return Measurement(bytes: 0, complete: true) }
        if info.st_mode & S_IFMT == S_IFREG { return Measurement(bytes: Int64(info.st_blocks) * 512, complete: true) }
        let root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard root >= 0 else { return Measurement(bytes: 0, complete: true) }
        var walk = Walk(deadline: deadline)
        walk.directory(root, depth: 0)
        return Measurement(bytes: walk.total, complete: !walk.expired)
    }

    private struct Walk {
        let deadline: Double?
        var total: Int64 = 0
        var visited = 0
        var expired = false

        /// Sums the directory `fd` (taken over and closed) and everything beneath it.
        mutating func directory(_ fd: Int32, depth: Int) {
            guard let handle = fdopendir(fd) else {
                close(fd)
                return
            }
            defer { closedir(handle) }
            while !expired, let entry = readdir(handle) {
                if let deadline, visited % 64 == 0, wallClock() > deadline {
                    expired = true
                    return
                }
                visited += 1
                let isDot = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    raw[0] == 0x2E && (raw[1] == 0 || (raw[1] == 0x2E && raw[2] == 0))
                }
                if isDot { continue }
                let type = entry.pointee.d_type
                withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    let name = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                    var info = stat()
                    guard fstatat(dirfd(handle), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
                    let kind = info.st_mode & S_IFMT
                    if kind == S_IFREG {
                        total += Int64(info.st_blocks) * 512
                    } else if kind == S_IFDIR, depth + 1 < DiskUsage.maximumDepth, type == UInt8(DT_DIR) || type == UInt8(DT_UNKNOWN) {
                        let child = openat(dirfd(handle), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                        if child >= 0 { directory(child, depth: depth + 1) }
                    }
                }
            }
        }
    }

    /// 512·`st_blocks` of one file (0 if it cannot be stat'ed), like the original's `safe_bsize`.
    public static func blockSize(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }
}
