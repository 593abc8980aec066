import Glibc

extension Files {
    /// What `removeTree` did.
    public struct RemovalSummary: Sendable, Hashable {
        /// Entries removed (files, links and directories).
        public var removed = 0
        /// Entries left: on another filesystem (a mount point), deeper than the depth limit, or
        /// refused by the system (the first such error is in `firstError`).
        public var left = 0
        public var firstError: PlatformError?
    }

    /// Removes the directory `path` and everything in it, treating its content as hostile: every
    /// entry is handled relative to its parent's descriptor (`unlinkat`, `openat` with
    /// `O_NOFOLLOW`), so a symlink is removed, never followed, and an entry swapped for a link
    /// mid-walk cannot redirect the removal; mount points (another device) are not entered;
    /// nesting deeper than `maxDepth` is left in place. `path` itself must be a directory
    /// (a symlink at `path` is refused).
    @discardableResult
    public static func removeTree(_ path: String, maxDepth: Int = 256) -> RemovalSummary {
        var summary = RemovalSummary()
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno != ENOENT { summary.firstError = .system("open for removal", path: path) }
            return summary
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return summary
        }
        removeEntries(of: fd, device: info.st_dev, depth: 1, maxDepth: maxDepth, path: path, into: &summary)
        if rmdir(path) == 0 {
            summary.removed += 1
        } else {
            summary.left += 1
            if summary.firstError == nil { summary.firstError = .system("remove", path: path) }
        }
        return summary
    }

    /// Empties the directory `fd` (and closes it).
    private static func removeEntries(of fd: Int32, device: dev_t, depth: Int, maxDepth: Int, path: String, into summary: inout RemovalSummary) {
        guard let stream = fdopendir(fd) else {
            close(fd)
            return
        }
        defer { closedir(stream) }
        // Names are collected in batches (removing while reading a directory may skip entries),
        // each batch removed, until a batch removes nothing.
        while true {
            var names: [String] = []
            rewinddir(stream)
            while names.count < 10_000, let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            let before = summary.removed
            for name in names {
                removeEntry(name, in: fd, device: device, depth: depth, maxDepth: maxDepth, path: path, into: &summary)
            }
            if names.isEmpty || summary.removed == before { return }
        }
    }

    private static func removeEntry(
        _ name: String, in fd: Int32, device: dev_t, depth: Int, maxDepth: Int, path: String, into summary: inout RemovalSummary
    ) {
        var info = stat()
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            record(unlinkat(fd, name, 0), path + "/" + name, into: &summary)
            return
        }
        guard info.st_dev == device, depth < maxDepth else {
            summary.left += 1
            return
        }
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else {
            summary.left += 1
            return
        }
        removeEntries(of: child, device: device, depth: depth + 1, maxDepth: maxDepth, path: path + "/" + name, into: &summary)
        record(unlinkat(fd, name, AT_REMOVEDIR), path + "/" + name, into: &summary)
    }

    private static func record(_ result: Int32, _ path: String, into summary: inout RemovalSummary) {
        if result == 0 {
            summary.removed += 1
        } else {
            summary.left += 1
            if summary.firstError == nil { summary.firstError = .system("remove", path: path) }
        }
    }
}
