/// Resolves `{{…}}` references in strings against a chain of scopes, as pystachio does:
/// innermost references first, repeated until nothing changes (at most 100 passes), `{{&x}}`
/// producing a literal `{{x}}`, and unresolvable references left in place and reported.
struct Interpolator: Sendable {
    static let maximumPasses = 100
    /// The longest text one string may interpolate to: 1 MiB (Linux refuses a single exec
    /// argument over 128 KiB anyway). References that multiply themselves (`{{a}}{{a}}…` nine
    /// levels deep) are refused here instead of growing to gigabytes.
    static let maximumLength = 1 << 20
    private static let literalOpen: Character = "\u{E000}"
    private static let literalClose: Character = "\u{E001}"

    /// Scopes in lookup order: the closest binding first.
    var scopes: [ConfigValue]
    /// Whether a literal `{{&x}}` stays `{{&x}}` (what `convert` writes, so that the file it
    /// prints reads back as the same task) instead of becoming the text `{{x}}`.
    var keepsLiterals = false

    /// The value `reference` names in the first scope that has it.
    func lookup(_ reference: Reference) -> ConfigValue? {
        for scope in scopes {
            if let value = reference.resolve(in: scope) { return value }
        }
        return nil
    }

    /// `text` with every resolvable reference replaced, and the references that were not.
    func interpolate(_ text: String) throws(ConfigError) -> (text: String, unbound: [String]) {
        guard text.containsTemplateOpening else { return (text, []) }
        var current = text
        for _ in 0..<Self.maximumPasses {
            guard let (next, unbound, changed) = pass(current) else {
                let shown = text.count > 60 ? String(text.prefix(57)) + "..." : text
                throw ConfigError(
                    .uninterpolatable,
                    "Uninterpolatable: \(shown) interpolates to text larger than \(Self.maximumLength >> 20) MiB")
            }
            current = next
            if !changed {
                let restored = current.replacing(String(Self.literalOpen), with: keepsLiterals ? "{{&" : "{{")
                    .replacing(String(Self.literalClose), with: "}}")
                return (restored, unbound)
            }
        }
        throw ConfigError(
            .uninterpolatable, "Uninterpolatable: \(text) did not resolve within \(Self.maximumPasses) passes")
    }

    /// One left-to-right pass over the innermost `{{…}}` groups; nil once the output would
    /// exceed `maximumLength`.
    private func pass(_ text: String) -> (String, [String], Bool)? {
        var output = ""
        var unbound: [String] = []
        var changed = false
        var index = text.startIndex
        while index < text.endIndex {
            guard let open = text[index...].firstRange(of: "{{") else {
                output += text[index...]
                break
            }
            if output.utf8.count > Self.maximumLength { return nil }
            // The innermost group: the last "{{" before the first "}}" that follows it.
            guard let close = text[open.upperBound...].firstRange(of: "}}") else {
                output += text[index...]
                break
            }
            var start = open.lowerBound
            while let inner = text[text.index(start, offsetBy: 2)..<close.lowerBound].firstRange(of: "{{") {
                start = inner.lowerBound
            }
            output += text[index..<start]
            let content = String(text[text.index(start, offsetBy: 2)..<close.lowerBound])
            let original = String(text[start..<close.upperBound])
            if content.hasPrefix("&") {
                output += "\(Self.literalOpen)\(content.dropFirst())\(Self.literalClose)"
                changed = true
            } else if let reference = Reference(parsing: content) {
                if let value = lookup(reference) {
                    output += value.interpolationText
                    changed = true
                    if output.utf8.count > Self.maximumLength { return nil }
                } else {
                    output += original
                    unbound.append(reference.description)
                }
            } else {
                output += original
            }
            index = close.upperBound
        }
        return (output, unbound, changed)
    }
}
