import Glibc

/// Opens beneath a directory descriptor without following symlinks or blocking, for reading
/// what a task wrote (its log directories are the task's to replace: by a symlink, a FIFO, a
/// device). Every open is one `openat` of one name with `O_NOFOLLOW | O_NONBLOCK`, checked with
/// `fstat` on the opened descriptor; nothing is reopened by name after a check.
public enum ConfinedOpen {
    /// A file's identity (device, inode): tells a replaced file from the one already open.
    public struct FileID: Sendable, Hashable {
        public var device: UInt64
        public var inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// Why a name could not be opened.
    public enum Refusal: Error, Sendable, Hashable {
        /// Nothing by that name (yet).
        case missing
        /// A symlink, FIFO, device, socket, or a directory where a file was expected (or the reverse).
        case wrongType
        /// Any other failure (permissions, too many open files), with its errno.
        case failed(Int32)
    }

    /// The result of an open: a descriptor (the caller closes it) with its identity and size.
    public struct Opened: Sendable {
        public var descriptor: Int32
        public var id: FileID
        public var size: Int64
    }

    /// Opens the directory `name` beneath `parent` (no symlink, no other type).
    public static func directory(_ name: String, beneath parent: Int32) -> Result<Opened, Refusal> {
        guard isPlainName(name) else { return .failure(.wrongType) }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(refusal(errno)) }
        return checked(fd, type: S_IFDIR)
    }

    /// Opens the regular file `name` beneath `parent` for reading. A FIFO or device is never
    /// opened (looked at with `fstatat` first), and the opened descriptor is checked again.
    public static func regularFile(_ name: String, beneath parent: Int32) -> Result<Opened, Refusal> {
        guard isPlainName(name) else { return .failure(.wrongType) }
        switch identify(name, beneath: parent) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let info) where info.st_mode & S_IFMT != S_IFREG: return .failure(.wrongType)
        case .success: break
        }
        let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(refusal(errno)) }
        return checked(fd, type: S_IFREG)
    }

    /// `fstatat` of `name` beneath `parent`, not following a symlink.
    static func identify(_ name: String, beneath parent: Int32) -> Result<stat, Refusal> {
        var info = stat()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .failure(refusal(errno)) }
        return .success(info)
    }

    /// The identity and size of an open descriptor.
    public static func status(of fd: Int32) -> (id: FileID, size: Int64)? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return (FileID(info), Int64(info.st_size))
    }

    /// The largest entry name of the directory `fd` made only of decimal digits (a run number),
    /// or nil. Streams the listing: time O(entries), memory O(1).
    public static func largestNumberedEntry(in fd: Int32) -> Int? {
        let listing = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let stream = fdopendir(listing) else { return nil }
        defer { closedir(stream) }
        var largest: Int?
        while let entry = readdir(stream) {
            let number = withUnsafeBytes(of: entry.pointee.d_name) { raw -> Int? in
                var value = 0
                var digits = 0
                for byte in raw {
                    if byte == 0 { break }
                    guard byte >= 48, byte <= 57, digits < 9 else { return nil }
                    value = value * 10 + Int(byte - 48)
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            if let number, number > (largest ?? -1) { largest = number }
        }
        return largest
    }

    /// The offset where the last `count` lines of the file `fd` (of `size` bytes) start,
    /// scanning backwards in bounded chunks (a final newline ends the last line).
    public static func startOfLastLines(_ count: Int, in fd: Int32, size: Int64) -> Int64 {
        guard count > 0 else { return size }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var end = size
        var newlines = 0
        var first = true
        while end > 0 {
            let length = Int(min(Int64(chunk.count), end))
            let start = end - Int64(length)
            let read = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(start)) }
            guard read == length else { return 0 }
            var index = length - 1
            if first, chunk[index] == 10 { index -= 1 }
            first = false
            while index >= 0 {
                if chunk[index] == 10 {
                    newlines += 1
                    if newlines == count { return start + Int64(index) + 1 }
                }
                index -= 1
            }
            end = start
        }
        return 0
    }

    /// A single path component: not empty, no `/`, not `.` or `..`.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(47) && !name.utf8.contains(0)
    }

    private static func checked(_ fd: Int32, type: mode_t) -> Result<Opened, Refusal> {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            return .failure(.failed(code))
        }
        guard info.st_mode & S_IFMT == type else {
            close(fd)
            return .failure(.wrongType)
        }
        return .success(Opened(descriptor: fd, id: FileID(info), size: Int64(info.st_size)))
    }

    private static func refusal(_ code: Int32) -> Refusal {
        switch code {
        case ENOENT: .missing
        case ELOOP, ENOTDIR, ENXIO: .wrongType
        default: .failed(code)
        }
    }
}
