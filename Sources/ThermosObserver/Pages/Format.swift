import Glibc

/// Number, time and mode formatting for the pages.
enum Format {
    /// `%m/%d %H:%M:%S` (short) or `%Y-%m-%d %H:%M:%S UTC`, in UTC; empty for 0.
    static func utc(_ seconds: Double, short: Bool = false) -> String {
        guard seconds > 0 else { return "" }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, short ? "%m/%d %H:%M:%S" : "%Y-%m-%d %H:%M:%S UTC", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `5s ago`, `3m ago`, `2h ago`, `4d ago`; empty for 0.
    static func ago(_ seconds: Double, now: Double) -> String {
        guard seconds > 0 else { return "" }
        let delta = max(0, Int(now - seconds))
        switch delta {
        case ..<60: return "\(delta)s ago"
        case ..<3600: return "\(delta / 60)m ago"
        case ..<86400: return "\(delta / 3600)h ago"
        default: return "\(delta / 86400)d ago"
        }
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.\(digits)f", $0) }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `812 B`, `1.5 KiB`, `20.0 MiB`, `3.25 GiB`.
    static func bytes(_ count: Int64) -> String {
        let value = Double(count)
        switch count {
        case ..<1024: return "\(count) B"
        case ..<(1 << 20): return fixed(value / 1024, 1) + " KiB"
        case ..<(1 << 30): return fixed(value / 1_048_576, 1) + " MiB"
        default: return fixed(value / 1_073_741_824, 2) + " GiB"
        }
    }

    /// `45s`, `12m`, `3h`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(max(0, min(seconds, 1e12)))
        switch whole {
        case ..<120: return "\(whole)s"
        case ..<7200: return "\(whole / 60)m"
        default: return "\(whole / 3600)h"
        }
    }

    /// An inline SVG polyline of the values in a figure captioned with `label` and the range
    /// (`format` renders the min and max); empty with fewer than two values.
    static func sparkline(_ values: [Double], label: String, format: (Double) -> String) -> String {
        guard values.count >= 2 else { return "" }
        let top = max(values.max() ?? 0, 1e-9)
        let width = 160.0, height = 28.0
        let points = values.enumerated().map { index, value in
            "\(fixed(Double(index) * width / Double(values.count - 1), 1)),\(fixed(height - value / top * (height - 2) - 1, 1))"
        }
        let caption = SafeFiles.htmlEscape("\(label): min \(format(values.min() ?? 0)), max \(format(values.max() ?? 0))")
        return "<figure><svg width=\"160\" height=\"28\" role=\"img\" aria-label=\"\(caption)\"><polyline fill=\"none\" stroke=\"#2a7ae2\" "
            + "stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/></svg><figcaption>\(caption)</figcaption></figure>"
    }

    /// `ls -l`-style mode string.
    static func mode(_ mode: mode_t) -> String {
        let kind: Character = switch mode & S_IFMT {
        case S_IFDIR: "d"
        case S_IFLNK: "l"
        case S_IFIFO: "p"
        case S_IFSOCK: "s"
        case S_IFCHR: "c"
        case S_IFBLK: "b"
        default: "-"
        }
        var out = String(kind)
        for shift in [6, 3, 0] {
            let bits = (mode >> mode_t(shift)) & 7
            out += (bits & 4 != 0 ? "r" : "-") + (bits & 2 != 0 ? "w" : "-") + (bits & 1 != 0 ? "x" : "-")
        }
        return out
    }
}
