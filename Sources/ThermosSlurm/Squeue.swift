/// One line of `squeue -h -r -t all -o SqueueRow.format`: one element of a job array.
public struct SqueueRow: Sendable, Equatable {
    /// The array job id (`%F`): the id `sbatch` printed.
    public var arrayJobID: Int
    /// The array index (`%K`); nil for a job that is not an array.
    public var instance: Int?
    /// The element's own job id (`%i`, e.g. `123_4`, or its own number once started).
    public var elementID: String
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, …
    public var state: String
    /// The node list (`%N`); empty while pending.
    public var nodes: String

    public init(arrayJobID: Int, instance: Int?, elementID: String, state: String, nodes: String) {
        self.arrayJobID = arrayJobID
        self.instance = instance
        self.elementID = elementID
        self.state = state
        self.nodes = nodes
    }

    /// The `squeue -o` format: array job id, index, element id, state (long), nodes.
    public static let format = "%F|%K|%i|%T|%N"

    /// Parses `squeue -h -r -o format` output. Lines that do not fit are skipped; a pending
    /// range that `-r` did not expand (`0-49%5`) becomes one row per index.
    public static func parse(_ text: String) -> [SqueueRow] {
        var rows: [SqueueRow] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map {
                String($0).trimmingSpaces()
            }
            guard fields.count == 5, let job = Int(fields[0]) else { continue }
            let indices = expand(fields[1])
            if indices.isEmpty {
                rows.append(SqueueRow(arrayJobID: job, instance: nil, elementID: fields[2], state: fields[3], nodes: fields[4]))
            }
            for index in indices {
                rows.append(SqueueRow(
                    arrayJobID: job, instance: index, elementID: indices.count == 1 ? fields[2] : "\(job)_\(index)",
                    state: fields[3], nodes: fields[4]))
            }
        }
        return rows
    }

    /// `4` → [4]; `0-3,7` → [0, 1, 2, 3, 7]; `[0-3%2]` → [0, 1, 2, 3]; `N/A` → [].
    static func expand(_ text: String) -> [Int] {
        var body = Substring(text)
        if body.hasPrefix("[") { body = body.dropFirst() }
        if body.hasSuffix("]") { body = body.dropLast() }
        if let percent = body.firstIndex(of: "%") { body = body[..<percent] }
        var result: [Int] = []
        for part in body.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1)
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high, high - low < 1_000_000 {
                result += Array(low...high)
            } else if let single = Int(part) {
                result.append(single)
            } else {
                return []
            }
        }
        return result
    }
}

/// Node names → addresses from `scontrol show nodes -o` (one `NodeName=… NodeAddr=…` line each).
public enum SlurmNodes {
    public static func addresses(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            var name: String?
            var address: String?
            for word in line.split(separator: " ") {
                if word.hasPrefix("NodeName=") { name = String(word.dropFirst("NodeName=".count)) }
                if word.hasPrefix("NodeAddr=") { address = String(word.dropFirst("NodeAddr=".count)) }
            }
            if let name { result[name] = address ?? name }
        }
        return result
    }

    /// A `Key = Value` setting of `scontrol show config`.
    public static func configValue(_ key: String, in text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters() == key { return parts[1].trimmingCharacters() }
        }
        return nil
    }

    /// Leading digits of a setting such as `30 sec`.
    public static func seconds(_ value: String) -> Int? {
        Int(value.prefix { $0.isNumber })
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    func trimmingCharacters() -> String { trimmingSpaces() }
}
