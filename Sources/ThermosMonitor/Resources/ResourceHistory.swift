public import DequeModule

/// Why a history could not be made or extended.
public struct HistoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The capacity is below 1 or above `ResourceHistory.maximumLength`.
        public static let invalidLength = Code("invalidLength")
        /// A timestamp older than the last one was added.
        public static let timestampInPast = Code("timestampInPast")
    }

    public var code: Code
    public var message: String
    public var description: String { message }
}

/// A ring buffer of `(timestamp, value)` samples in time order (the original's
/// `ResourceHistory`): the oldest entry is dropped when full.
public struct ResourceHistory<Value: Sendable>: Sendable {
    /// The original's `HistoryProvider.MAX_HISTORY`.
    public static var maximumLength: Int { 10_000 }

    public let capacity: Int
    public private(set) var entries: Deque<(timestamp: Double, value: Value)>

    /// A history of `capacity` entries (1 … 10,000).
    public init(capacity: Int) throws(HistoryError) {
        guard capacity >= 1 else { throw HistoryError(code: .invalidLength, message: "History must have at least one entry") }
        guard capacity <= Self.maximumLength else {
            throw HistoryError(code: .invalidLength, message: "Requested history length too large")
        }
        self.capacity = capacity
        entries = Deque(minimumCapacity: min(capacity, 256))
    }

    /// The length for keeping `historyTime` seconds of samples taken every `interval` seconds
    /// (`int(history_time / interval)`, at least 1).
    public static func length(historyTime: Double, interval: Double) throws(HistoryError) -> Int {
        let length = max(1, Int(historyTime / max(interval, 0.001)))
        guard length <= maximumLength else {
            throw HistoryError(code: .invalidLength, message: "Requested history length too large")
        }
        return length
    }

    /// Appends a sample; refuses a timestamp older than the last one.
    public mutating func add(_ timestamp: Double, _ value: Value) throws(HistoryError) {
        if let last = entries.last, timestamp < last.timestamp {
            throw HistoryError(code: .timestampInPast, message: "Refusing to add timestamp in the past!")
        }
        if entries.count == capacity { entries.removeFirst() }
        entries.append((timestamp, value))
    }

    /// The first entry at or after `timestamp`, else the newest (the original's `get`).
    public func get(_ timestamp: Double) -> (timestamp: Double, value: Value)? {
        guard !entries.isEmpty else { return nil }
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
        }
        return entries[min(low, entries.count - 1)]
    }

    /// The newest entry.
    public var latest: (timestamp: Double, value: Value)? { entries.last }

    public var count: Int { entries.count }
}
