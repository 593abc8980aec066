import CThermosConfine
import Glibc

/// Why a file was not served (never shown to clients beyond 404/`{}`; kept for tests and logs).
public struct FileRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was refused.
    public struct Code: Sendable, Hashable {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// `..`, an absolute path, a NUL or an empty component where one is not allowed.
        public static let badPath = Code("badPath")
        /// The path does not exist (or resolving it left the directory).
        public static let notFound = Code("notFound")
        /// The opened object is not a regular file (FIFO, device, socket, directory).
        public static let notRegular = Code("notRegular")
        /// The opened object is not a directory.
        public static let notDirectory = Code("notDirectory")
        /// The sandbox path names a different directory than the one first seen.
        public static let replaced = Code("replaced")
    }

    public var code: Code
    public var path: String
    public var errno: Int32 = 0
    public var description: String { "\(code) \(path)\(errno != 0 ? " (errno \(errno))" : "")" }
}

/// The identity of a directory (device and inode), to notice a sandbox that was replaced.
public struct FileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
}

/// An open directory under which every served file is resolved with
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: no component of a request, and no link a
/// task plants or swaps in mid-request, can resolve outside it. Files are opened `O_NONBLOCK`
/// (a FIFO never blocks the open) and checked with `fstat` on the opened descriptor; nothing is
/// reopened by name after a check. Absolute links that point inside the directory's own path
/// are followed one component at a time, each step again beneath the directory.
public final class ConfinedDirectory: Sendable {
    /// The descriptor (owned; closed on deinit). Immutable, so sharing it across tasks is safe.
    public let descriptor: Int32
    /// The path the directory was opened by (used only to translate absolute links inside it).
    public let path: String
    public let identity: FileIdentity

    private init(descriptor: Int32, path: String, identity: FileIdentity) {
        self.descriptor = descriptor
        self.path = path
        self.identity = identity
    }

    deinit { close(descriptor) }

    /// Opens `path` as a directory without following a final symlink. With `expected`, a
    /// directory with another identity is refused (`.replaced`).
    public static func open(_ path: String, expected: FileIdentity? = nil) -> Result<ConfinedDirectory, FileRefusal> {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else { return .failure(FileRefusal(code: .badPath, path: path)) }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .failure(FileRefusal(code: .notFound, path: path, errno: errno)) }
        return adopt(fd, path: path, expected: expected)
    }

    private static func adopt(_ fd: Int32, path: String, expected: FileIdentity?) -> Result<ConfinedDirectory, FileRefusal> {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            close(fd)
            return .failure(FileRefusal(code: .notDirectory, path: path))
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if let expected, expected != identity {
            close(fd)
            return .failure(FileRefusal(code: .replaced, path: path))
        }
        return .success(ConfinedDirectory(descriptor: fd, path: path, identity: identity))
    }

    /// The components of a request path: no absolute path, NUL, `..`; `.` and empty ones dropped.
    public static func components(_ relative: String) -> [String]? {
        guard !relative.hasPrefix("/"), !relative.utf8.contains(0) else { return nil }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        return parts.contains("..") ? nil : parts
    }

    /// Opens a regular file beneath this directory (read-only, non-blocking, close-on-exec).
    /// With `followingFinalLink` false, a symlink as the last component is refused.
    public func openFile(_ relative: String, followingFinalLink: Bool = true) -> Result<OpenedFile, FileRefusal> {
        guard let parts = Self.components(relative), !parts.isEmpty else { return .failure(FileRefusal(code: .badPath, path: relative)) }
        let fd: Int32
        switch openBeneath(parts, flags: O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (followingFinalLink ? 0 : O_NOFOLLOW)) {
        case .success(let opened): fd = opened
        case .failure(let refusal): return .failure(refusal)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(FileRefusal(code: .notRegular, path: relative))
        }
        return .success(OpenedFile(descriptor: fd, size: Int64(info.st_size), modified: Double(info.st_mtim.tv_sec)))
    }

    /// Opens a directory beneath this one (`""` is this directory itself, opened afresh).
    public func openDirectory(_ relative: String) -> Result<ConfinedDirectory, FileRefusal> {
        guard let parts = Self.components(relative) else { return .failure(FileRefusal(code: .badPath, path: relative)) }
        switch openBeneath(parts.isEmpty ? ["."] : parts, flags: O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC) {
        case .success(let fd):
            return Self.adopt(fd, path: parts.isEmpty ? path : path + "/" + parts.joined(separator: "/"), expected: nil)
        case .failure(let refusal):
            return .failure(refusal)
        }
    }

    /// `openat2` beneath the descriptor; on EXDEV (an absolute link), the path is walked with
    /// absolute links into `path` translated, and opened again beneath the descriptor.
    private func openBeneath(_ parts: [String], flags: Int32) -> Result<Int32, FileRefusal> {
        let relative = parts.joined(separator: "/")
        let fd = cthermos_openat2(descriptor, relative, UInt64(UInt32(bitPattern: flags)), cthermos_RESOLVE_BENEATH_NO_MAGICLINKS)
        if fd >= 0 { return .success(fd) }
        let failure = errno
        guard failure == EXDEV, let translated = translateAbsoluteLinks(parts) else {
            return .failure(FileRefusal(code: .notFound, path: relative, errno: failure))
        }
        let again = cthermos_openat2(descriptor, translated.isEmpty ? "." : translated, UInt64(UInt32(bitPattern: flags)), cthermos_RESOLVE_BENEATH_NO_MAGICLINKS)
        guard again >= 0 else { return .failure(FileRefusal(code: .notFound, path: relative, errno: errno)) }
        return .success(again)
    }

    /// Resolves `parts` component by component beneath the descriptor, replacing an absolute
    /// link to `<path>/x` by `x`; nil for a link anywhere else, a loop or a missing component.
    func translateAbsoluteLinks(_ parts: [String]) -> String? {
        var pending = parts[...]
        var resolved: [String] = []
        var hops = 0
        let prefixes = [path, SafeFiles.realPath(path)].compactMap { $0 }.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        while let part = pending.popFirst() {
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                guard !resolved.isEmpty else { return nil }
                resolved.removeLast()
                continue
            }
            let candidate = (resolved + [part]).joined(separator: "/")
            let fd = cthermos_openat2(descriptor, candidate, UInt64(UInt32(bitPattern: cthermos_O_PATH | O_NOFOLLOW | O_CLOEXEC)), cthermos_RESOLVE_BENEATH_NO_MAGICLINKS)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { return nil }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(part)
                continue
            }
            hops += 1
            guard hops <= 40, let target = Self.readLink(fd) else { return nil }
            let rest: Substring
            if target.hasPrefix("/") {
                guard let prefix = prefixes.first(where: { target.hasPrefix($0) || target + "/" == $0 }) else { return nil }
                rest = target.count >= prefix.count ? target.dropFirst(prefix.count) : ""
                resolved = []
            } else {
                rest = Substring(target)
            }
            pending = (rest.split(separator: "/").map(String.init) + pending)[...]
        }
        return resolved.joined(separator: "/")
    }

    static func readLink(_ fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(fd, "", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One page of the entries (sorted by name, `.`/`..` left out), each `fstatat`'ed without
    /// following links, and the total number of entries.
    public func list(offset: Int, limit: Int) -> (entries: [DirectoryEntry], total: Int) {
        let fresh = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        guard fresh >= 0, let handle = fdopendir(fresh) else {
            if fresh >= 0 { close(fresh) }
            return ([], 0)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        names.sort()
        let start = min(max(0, offset), names.count)
        let page = names[start..<min(names.count, start + max(0, min(limit, names.count)))]
        let entries = page.compactMap { name -> DirectoryEntry? in
            var info = stat()
            guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
            return DirectoryEntry(name: name, mode: UInt32(info.st_mode), size: Int64(info.st_size), modified: Double(info.st_mtim.tv_sec))
        }
        return (entries, names.count)
    }
}

/// One entry of a directory listing.
public struct DirectoryEntry: Sendable, Hashable {
    public var name: String
    public var mode: UInt32
    public var size: Int64
    public var modified: Double
    public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
}

/// A regular file opened beneath a `ConfinedDirectory`; closed on deinit. Reads are `pread`s,
/// so sharing it between the tasks that stream it is safe.
public final class OpenedFile: Sendable {
    public let descriptor: Int32
    /// `st_size` when it was opened.
    public let size: Int64
    public let modified: Double

    init(descriptor: Int32, size: Int64, modified: Double) {
        self.descriptor = descriptor
        self.size = size
        self.modified = modified
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes at `offset` (fewer at the end of the file; empty on error).
    public func read(at offset: Int64, count: Int) -> [UInt8] {
        guard count > 0, offset >= 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                done += got
            }
            initialized = done
        }
    }
}
