import Glibc

/// Time formatting of the original CLI (Python's `time.asctime(time.localtime(t))`).
enum TimeFormat {
    /// `Mon Nov 23 18:13:04 2026` in local time; the day of month is space-padded like asctime.
    static func asctime(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return "?" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `asctime` of a millisecond timestamp.
    static func asctime(milliseconds: Int64) -> String {
        asctime(Double(milliseconds / 1000))
    }
}

/// Python-style `%-Ns` / `%Ns` padding.
extension String {
    func padded(to width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - count))
        return left ? self + padding : padding + self
    }
}
