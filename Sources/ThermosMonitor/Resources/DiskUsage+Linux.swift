import Glibc

/// `du`-style disk usage: Σ 512·`st_blocks` of the regular files under a directory, walked with
/// `lstat` (symlinks are never followed, so a link out of the sandbox is not counted).
public enum DiskUsage {
    /// The result of one walk.
    public struct Measurement: Sendable, Hashable {
        public var bytes: Int64
        /// False when the deadline stopped the walk early (`bytes` is then a lower bound).
        public var complete: Bool
    }

    /// Measures `path`; stops at `deadline` (seconds since the epoch) if given.
    public static func measure(_ path: String, deadline: Double? = nil) -> Measurement {
        var total: Int64 = 0
        var pending = [path]
        var visited = 0
        while let directory = pending.popLast() {
            if let deadline, visited % 64 == 0, wallClock() > deadline {
                return Measurement(bytes: total, complete: false)
            }
            visited += 1
            var info = stat()
            guard lstat(directory, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFREG {
                total += Int64(info.st_blocks) * 512
                continue
            }
            guard kind == S_IFDIR, let handle = opendir(directory) else { continue }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let child = directory + "/" + name
                if entry.pointee.d_type == UInt8(DT_DIR) {
                    pending.append(child)
                } else {
                    var childInfo = stat()
                    guard lstat(child, &childInfo) == 0 else { continue }
                    let childKind = childInfo.st_mode & S_IFMT
                    if childKind == S_IFREG {
                        total += Int64(childInfo.st_blocks) * 512
                    } else if childKind == S_IFDIR {
                        pending.append(child)
                    }
                }
            }
        }
        return Measurement(bytes: total, complete: true)
    }

    /// 512·`st_blocks` of one file (0 if it cannot be stat'ed), like the original's `safe_bsize`.
    public static func blockSize(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }
}
