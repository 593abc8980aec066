import Glibc

/// Limits and escaping for what the observer serves. Files themselves are opened through
/// `ConfinedDirectory` (openat2 beneath the sandbox; DESIGN §2.8).
public enum SafeFiles {
    /// The original's chunk limits: 1 MiB by default, never more than 16 MiB (enforced here).
    public static let defaultChunkLength = 1 << 20
    public static let maximumChunkLength = 16 << 20

    /// Chunks of at most this many data bytes are built whole; longer ones are streamed in
    /// slices of this size.
    public static let streamingSlice = 256 << 10
    /// Downloads are streamed in pieces of this size.
    public static let downloadPiece = 64 << 10
    /// Directory listings show this many entries per page.
    public static let listingPage = 500

    /// `realpath(3)`, nil if the path does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
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
