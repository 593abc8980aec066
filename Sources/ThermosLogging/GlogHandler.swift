import Glibc
public import Logging
import ThermosPlatform

/// A swift-log handler that writes the original runner's glog line shape to stderr:
/// `I1203 15:04:05.123456 4242 runner] message` (level letter, local month-day and time with
/// microseconds, pid, the logger's label). Metadata follows the message as `key=value`.
public struct GlogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    public let label: String
    /// Where lines go (default stderr).
    let descriptor: Int32

    public init(label: String, level: Logger.Level = .info, descriptor: Int32 = 2) {
        self.label = label
        logLevel = level
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Self.line(level: event.level, message: event.message.description, label: label, time: SystemWallClock().now())
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        // A log line that cannot be written (stderr closed or full) is dropped, never fatal.
        try? Files.writeAll(descriptor, line + "\n")
    }

    /// The glog letter of a level.
    static func letter(_ level: Logger.Level) -> Character {
        switch level {
        case .trace, .debug: "D"
        case .info, .notice: "I"
        case .warning: "W"
        case .error: "E"
        case .critical: "F"
        }
    }

    /// One line without its newline.
    static func line(level: Logger.Level, message: String, label: String, time: Double) -> String {
        var seconds = time_t(time)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%m%d %H:%M:%S", &parts)
        let micros = String(Int((time - Double(seconds)) * 1_000_000))
        let stamp = String(cString: buffer) + "." + String(repeating: "0", count: max(0, 6 - micros.count)) + micros
        return "\(letter(level))\(stamp) \(getpid()) \(label)] \(message)"
    }
}

/// Process-wide logging set-up.
public enum ThermosLogging {
    /// Sends every `Logger` of this process through `GlogHandler` at `level` (call once, early).
    public static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in GlogHandler(label: label, level: level) }
    }
}
