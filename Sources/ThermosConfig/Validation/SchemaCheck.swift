import OrderedCollections

/// The strict check of user configs: every key must belong to the schema. An unknown key is an
/// error naming its path and the closest known key (`processes[0].cmdlin: unknown field; did you
/// mean cmdline?`), instead of being dropped as the original's task-file reader does.
extension SchemaKind {
    func checkKeys(_ value: ConfigValue, path: String, file: String?) throws(ConfigError) {
        guard case .map(let members) = value else { return }
        for (key, member) in members {
            let field = path.isEmpty ? key : "\(path).\(key)"
            guard keys.contains(key) else {
                let hint = SchemaKind.closest(to: key, among: keys).map { "; did you mean \($0)?" } ?? "; known fields: \(keys.joined(separator: ", "))"
                throw ConfigError(.typecheck, "unknown field\(hint)", file: file, field: field)
            }
            guard let (kind, isList) = child(key) else { continue }
            if isList, case .list(let items) = member {
                for (index, item) in items.enumerated() {
                    try kind.checkKeys(item, path: "\(field)[\(index)]", file: file)
                }
            } else {
                try kind.checkKeys(member, path: field, file: file)
            }
        }
    }

    /// The known key nearest to `key` by edit distance, when it is near enough to be a typo.
    static func closest(to key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { (candidate: $0, distance: editDistance(key, $0)) }
        guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
        let allowed = max(2, min(key.count, best.candidate.count) / 3)
        if best.distance <= allowed { return best.candidate }
        // A prefix or a plural/singular slip (`env` for nothing, `proceses` for `processes`).
        return candidates.first { $0.hasPrefix(key) || key.hasPrefix($0) }
    }

    /// Levenshtein distance over Unicode scalars.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let left = Array(a.unicodeScalars)
        let right = Array(b.unicodeScalars)
        if left.isEmpty { return right.count }
        var previous = Array(0...right.count)
        var current = previous
        for i in 1...left.count {
            current[0] = i
            for j in stride(from: 1, through: right.count, by: 1) {
                let substitution = previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
