import Glibc
public import ThermosPlatform

/// Formats log lines for people: each prefixed with its process name padded to the longest
/// (`web    | …`), stderr lines marked with `!` instead of `|` (`web    ! …`); on a terminal
/// the prefix takes a colour per process and the stderr mark is bold red. Output is buffered
/// and written to a descriptor in full writes; once the descriptor refuses (a closed pipe) the
/// printer stops writing and says so through `isClosed`.
public struct LogLinePrinter {
    /// Prefix colours (ANSI SGR), one per process in turn; red is kept for stderr.
    static let palette = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"]

    let output: Int32
    let colour: Bool
    private var width: Int
    private var colours: [String: String] = [:]
    private var prefixes: [String: (stdout: [UInt8], stderr: [UInt8])] = [:]
    private var pending: [UInt8] = []
    public private(set) var isClosed = false

    /// - Parameters:
    ///   - processes: the names to align (others are padded to the widest seen so far).
    ///   - colour: use colours (see `LogLinePrinter.wantsColour`).
    ///   - output: where to write (default standard output).
    public init(processes: [String], colour: Bool, output: Int32 = 1) {
        self.output = output
        self.colour = colour
        width = processes.map(\.count).max() ?? 0
        for (index, name) in processes.enumerated() where colours[name] == nil {
            colours[name] = Self.palette[index % Self.palette.count]
        }
    }

    /// Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
    public static func wantsColour(output: Int32 = 1) -> Bool {
        if let value = getenv("NO_COLOR"), value.pointee != 0 { return false }
        return isatty(output) == 1
    }

    /// Adds one line (written once the buffer is large, or on `flush`).
    public mutating func print(_ line: LogLine) {
        guard !isClosed else { return }
        let prefix = self.prefix(line.process, line.stream)
        pending.append(contentsOf: prefix)
        pending.append(contentsOf: line.bytes)
        // A colour the process left open must not run into the next prefix.
        pending.append(contentsOf: colour ? Self.colouredEnd : Self.plainEnd)
        if pending.count >= 64 * 1024 { flush() }
    }

    static let colouredEnd = Array("\u{1B}[0m\n".utf8)
    static let plainEnd: [UInt8] = [10]

    /// The prefix bytes of `process`'s `stream` lines (cached; rebuilt when a longer name widens them).
    private mutating func prefix(_ process: String, _ stream: LogStream) -> [UInt8] {
        if let cached = prefixes[process] { return stream == .stdout ? cached.stdout : cached.stderr }
        if process.count > width {
            width = process.count
            prefixes = [:]
        }
        let name = process + String(repeating: " ", count: width - process.count)
        let built: (stdout: [UInt8], stderr: [UInt8])
        if colour {
            let code = colours[process] ?? {
                let next = Self.palette[colours.count % Self.palette.count]
                colours[process] = next
                return next
            }()
            built = (Array("\u{1B}[\(code)m\(name) |\u{1B}[0m ".utf8), Array("\u{1B}[\(code)m\(name) \u{1B}[1;31m!\u{1B}[0m ".utf8))
        } else {
            built = (Array("\(name) | ".utf8), Array("\(name) ! ".utf8))
        }
        prefixes[process] = built
        return stream == .stdout ? built.stdout : built.stderr
    }

    /// Writes everything buffered.
    public mutating func flush() {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: pending.count <= 256 * 1024) }
        guard !isClosed else { return }
        do {
            try Files.writeAll(output, pending)
        } catch {
            isClosed = true
        }
    }
}
