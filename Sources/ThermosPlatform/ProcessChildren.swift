import Glibc

extension ProcessTable {
    /// The children of `pid` (zombies included: they hold their pid until reaped) from
    /// `/proc/<pid>/task/<tid>/children` of each of its threads (CONFIG_PROC_CHILDREN): a few
    /// files of `pid`'s own instead of every process's `stat`, so a child subreaper finds the
    /// orphans it adopted at a cost that does not grow with the machine. Nil when the kernel
    /// has no `children` files or `pid` is gone: the caller falls back to `snapshot()`.
    public static func children(of pid: Int32) -> Set<Int32>? {
        guard access("/proc/\(pid)/task/\(pid)/children", R_OK) == 0, let tasks = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(tasks) }
        var children = Set<Int32>()
        while let item = readdir(tasks) {
            let tid: Int32? = withUnsafeBytes(of: item.pointee.d_name) { raw in
                let name = raw.prefix(while: { $0 != 0 })
                guard let first = name.first, first >= 0x30, first <= 0x39 else { return nil }
                return Int32(String(decoding: name, as: UTF8.self))
            }
            // A thread that exits meanwhile has no children left to report.
            guard let tid, let text = Files.text(of: "/proc/\(pid)/task/\(tid)/children") else { continue }
            for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                if let child = Int32(word) { children.insert(child) }
            }
        }
        return children
    }
}
