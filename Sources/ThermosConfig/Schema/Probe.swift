import OrderedCollections

/// A readiness or liveness check of a process (our extension of the Thermos schema; Aurora's
/// task JSON has no such key): one of `exec` (exit 0 passes), `http` (a 2xx answer passes,
/// and with `expect_body` the body, trimmed, must equal it) or `tcp` (a connection passes), run
/// every `interval_secs` from `initial_delay_secs` after the run started, each cut at `timeout_secs`.
public struct ProbeConfig: Sendable, Hashable {
    /// What one probe does.
    public enum Check: Sendable, Hashable {
        /// `/bin/bash -c CMD` in the sandbox; exit status 0 passes.
        case exec(String)
        /// `GET` of an `http://HOST:PORT/PATH` URL; a 2xx status passes.
        case http(HTTPTarget)
        /// A TCP connection to `HOST:PORT` passes.
        case tcp(host: String, port: Int)
    }

    /// A parsed `http://` URL (no TLS: a probe talks to its own process).
    public struct HTTPTarget: Sendable, Hashable {
        public var url: String
        public var host: String
        public var port: Int
        /// The request target, `/` at least.
        public var path: String

        /// A URL still holding `{{…}}` references, for display only (`inspect`): no host or port.
        init(unresolvedURL: String) {
            url = unresolvedURL
            host = ""
            port = 0
            path = "/"
        }

        /// Parses `http://host[:port][/path]`; nil when it is not such a URL.
        public init?(url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            let remainder = rest.dropFirst(authority.count)
            guard !authority.isEmpty, !authority.contains("@") else { return nil }
            guard let (host, port) = ProbeConfig.hostAndPort(String(authority), defaultPort: 80) else { return nil }
            self.url = url
            self.host = host
            self.port = port
            path = remainder.isEmpty ? "/" : (remainder.hasPrefix("/") ? String(remainder) : "/" + remainder)
            guard !path.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) else { return nil }
        }
    }

    public var check: Check
    /// Seconds after the run started before the first probe. Default 0.
    public var initialDelay: Double
    /// Seconds from one probe's start to the next. Default 10.
    public var interval: Double
    /// A probe not done after this many seconds fails (its process group is killed). Default 1.
    public var timeout: Double
    /// Liveness: failures in a row that end the run as FAILED. Default 3.
    public var maxConsecutiveFailures: Int
    /// HTTP only: the body (whitespace-trimmed) must equal this.
    public var expectBody: String?

    public static let defaultInitialDelay = 0.0
    public static let defaultInterval = 10.0
    public static let defaultTimeout = 1.0
    public static let defaultMaxConsecutiveFailures = 3

    public init(
        check: Check, initialDelay: Double = defaultInitialDelay, interval: Double = defaultInterval,
        timeout: Double = defaultTimeout, maxConsecutiveFailures: Int = defaultMaxConsecutiveFailures,
        expectBody: String? = nil
    ) {
        self.check = check
        self.initialDelay = initialDelay
        self.interval = interval
        self.timeout = timeout
        self.maxConsecutiveFailures = maxConsecutiveFailures
        self.expectBody = expectBody
    }

    /// `HOST:PORT` (or `[v6]:PORT`), the port 1–65535; a missing port is `defaultPort` when given.
    public static func hostAndPort(_ text: String, defaultPort: Int?) -> (String, Int)? {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        guard let defaultPort else { return nil }
        return (host, defaultPort)
    }

    /// The check as written in the config (`exec`, `http`, `tcp` and its text).
    public var checkKeyAndText: (String, String) {
        switch check {
        case .exec(let command): ("exec", command)
        case .http(let target): ("http", target.url)
        case .tcp(let host, 0): ("tcp", host)  // an unresolved HOST:PORT shown by inspect
        case .tcp(let host, let port): ("tcp", host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        }
    }

    /// The probe as config JSON (every field written).
    public var configValue: ConfigValue {
        let (key, text) = checkKeyAndText
        var members: OrderedDictionary<String, ConfigValue> = [
            key: .string(text), "initial_delay_secs": .double(initialDelay), "interval_secs": .double(interval),
            "timeout_secs": .double(timeout), "max_consecutive_failures": .integer(Int64(maxConsecutiveFailures)),
        ]
        if let expectBody { members["expect_body"] = .string(expectBody) }
        return .map(members)
    }
}

/// What a `depends_on` entry waits for (our extension): the other process `started` (its run
/// reached RUNNING), `ready` (its readiness probe passed once) or `completed` (it finished, as
/// an `order` constraint).
public enum DependencyCondition: String, Sendable, Hashable, CaseIterable {
    case started, ready, completed
}

extension ProcessConfig {
    /// `depends_on` as a list in config order.
    public var dependencies: [(process: String, condition: DependencyCondition)] {
        get { dependsOn.map { ($0.key, $0.value) } }
        set { dependsOn = OrderedDictionary(newValue.map { ($0.process, $0.condition) }, uniquingKeysWith: { _, last in last }) }
    }
}
