import Glibc
import OrderedCollections
public import ThermosConfig

/// Files the observer serves: every path is resolved with `realpath` (symlinks followed) and
/// must stay inside the task's sandbox or log directory; `..`, absolute paths, links that leave
/// the base and anything but regular files are refused (DESIGN §2.8).
public enum SafeFiles {
    /// The original's chunk limits: 1 MiB by default, never more than 16 MiB (enforced here).
    public static let defaultChunkLength = 1 << 20
    public static let maximumChunkLength = 16 << 20

    /// `realpath(3)`, nil if the path does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The resolved path of `relative` under `base` if it is inside `base`; nil otherwise.
    /// `allowBase` accepts the base itself (directory listings).
    public static func resolve(_ relative: String, in base: String, allowBase: Bool = false) -> String? {
        guard !relative.hasPrefix("/"), !relative.contains("\0"), let realBase = realPath(base) else { return nil }
        let components = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.contains("..") else { return nil }
        let joined = components.isEmpty ? realBase : realBase + "/" + components.joined(separator: "/")
        guard let resolved = realPath(joined) else { return nil }
        if resolved == realBase { return allowBase ? resolved : nil }
        let prefix = realBase == "/" ? "/" : realBase + "/"
        return resolved.hasPrefix(prefix) ? resolved : nil
    }

    /// The resolved path if it names a regular file inside `base`.
    public static func regularFile(_ relative: String, in base: String) -> String? {
        guard let path = resolve(relative, in: base) else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return path
    }

    /// The chunk protocol (reference §4.4): `offset`/`length` as strings (default -1); -1 offset
    /// = file size, -1 length = to the end. `{offset, length, data}` with XML-escaped UTF-8, or
    /// `{offset, length: 0}` past the end; `{}` for bad numbers or a path that is not a file.
    public static func chunk(path: String?, offset offsetText: String?, length lengthText: String?) -> ConfigValue {
        guard let path, let offsetValue = Int(offsetText ?? "-1"), let lengthValue = Int(lengthText ?? "-1") else {
            return .map([:])
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .map([:]) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return .map([:]) }
        let size = Int(info.st_size)
        let offset = offsetValue == -1 ? size : max(0, offsetValue)
        var length = lengthValue == -1 ? size - offset : lengthValue
        length = min(max(0, length), maximumChunkLength)
        guard offset < size, length > 0 else {
            return .map(["offset": .integer(Int64(offset)), "length": .integer(0)])
        }
        var buffer = [UInt8](repeating: 0, count: min(length, size - offset))
        var done = 0
        while done < buffer.count {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            done += count
        }
        guard done > 0 else { return .map(["offset": .integer(Int64(offset)), "length": .integer(0)]) }
        let text = String(decoding: buffer.prefix(done), as: UTF8.self)
        return .map(["offset": .integer(Int64(offset)), "length": .integer(Int64(done)), "data": .string(xmlEscape(text))])
    }

    /// `&`, `<`, `>` escaped (the original's `xml.sax.saxutils.escape`).
    public static func xmlEscape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Full HTML escaping for text from a task (also quotes), for pages built without Mustache.
    public static func htmlEscape(_ text: String) -> String {
        xmlEscape(text).replacing("\"", with: "&quot;").replacing("'", with: "&#39;")
    }

    /// Percent-decodes a URL path component (invalid escapes are kept as written).
    public static func percentDecode(_ text: some StringProtocol) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
