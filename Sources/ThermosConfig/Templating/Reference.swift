import OrderedCollections

/// A parsed `{{a.b[c]}}` reference: an identifier followed by `.member` and `[index]` parts.
struct Reference: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case member(String)
        case index(String)
    }

    var components: [Component]

    /// The reference as written, without braces (`thermos.ports[http]`).
    var description: String {
        components.enumerated().map { offset, component in
            switch component {
            case .member(let name): offset == 0 ? name : ".\(name)"
            case .index(let index): "[\(index)]"
            }
        }.joined()
    }

    /// Parses `a.b[c]`; nil when the text is not a reference (then it is left as literal text).
    init?(parsing text: String) {
        var components: [Component] = []
        var rest = Substring(text.trimmingWhitespace())
        func identifier() -> String? {
            guard let first = rest.first, first == "_" || first.isLetter else { return nil }
            let name = rest.prefix { $0 == "_" || $0.isLetter || $0.isNumber }
            rest = rest.dropFirst(name.count)
            return String(name)
        }
        guard let head = identifier() else { return nil }
        components.append(.member(head))
        while let next = rest.first {
            if next == "." {
                rest = rest.dropFirst()
                guard let name = identifier() else { return nil }
                components.append(.member(name))
            } else if next == "[" {
                rest = rest.dropFirst()
                let index = rest.prefix { $0 == "_" || $0 == "-" || $0 == "." || $0 == "/" || $0.isLetter || $0.isNumber }
                rest = rest.dropFirst(index.count)
                guard !index.isEmpty, rest.first == "]" else { return nil }
                rest = rest.dropFirst()
                components.append(.index(String(index)))
            } else {
                return nil
            }
        }
        self.components = components
    }

    /// The value this reference names inside `root`, or nil.
    func resolve(in root: ConfigValue) -> ConfigValue? {
        var current = root
        for component in components {
            switch (component, current) {
            case (.member(let name), .map(let members)), (.index(let name), .map(let members)):
                guard let next = members[name] else { return nil }
                current = next
            case (.index(let index), .list(let items)):
                guard let position = Int(index), items.indices.contains(position) else { return nil }
                current = items[position]
            default:
                return nil
            }
        }
        return current
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
