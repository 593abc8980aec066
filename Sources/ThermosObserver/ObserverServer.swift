import Glibc
public import Hummingbird
import HummingbirdCore
public import Logging
public import ServiceLifecycle
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
public import ThermosMonitor

/// How the observer's HTTP server binds and guards its connections.
public struct ObserverConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 1338
    /// Extra names a request's `Host` may carry (besides the bound address, `localhost`,
    /// the loopback addresses and this machine's hostname).
    public var allowedHosts: [String] = []
    /// Connections served at once; further ones wait in the listen backlog.
    public var maximumConnections = 512
    /// A new connection must deliver its request head within this time.
    public var headerTimeout: Duration = .seconds(10)
    /// A kept-alive connection must start its next request within this time.
    public var idleTimeout: Duration = .seconds(60)
    /// A handler must have its response ready within this time (503 otherwise).
    public var handlerBudget: Duration = .seconds(10)
    /// With `--enable-control`: the CSRF token of this start (`makeControlToken()`); nil keeps
    /// the Kill/Restart buttons and their POST routes away.
    public var controlToken: String?

    public init() {}

    /// The `Host` names accepted.
    public var acceptedHosts: [String] {
        var names = ["localhost", "127.0.0.1", "::1", Self.hostname()] + allowedHosts
        if !["0.0.0.0", "::", ""].contains(host) { names.append(host) }
        return names
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The observer's HTTP application: the original's JSON routes (reference §4.3), the HTML UI
/// (§4.5), file and log chunks (§4.4) and `/metrics`, behind the connection and request guards.
public struct ObserverServer: Sendable {
    public let observer: TaskObserver
    public let model: ObserverModel
    public let configuration: ObserverConfiguration
    public let metrics: ObserverMetrics
    let files: TaskFiles
    let pages: ObserverPages
    let startTime = wallClock()
    let arguments: [String]

    public init(
        observer: TaskObserver, configuration: ObserverConfiguration = ObserverConfiguration(),
        arguments: [String] = CommandLine.arguments
    ) throws {
        self.observer = observer
        self.configuration = configuration
        model = ObserverModel(observer: observer)
        files = TaskFiles(observer: observer)
        pages = try ObserverPages(model: model, files: files, budget: configuration.handlerBudget, controlToken: configuration.controlToken)
        metrics = ObserverMetrics()
        self.arguments = arguments
    }

    /// The application: HTTP/1 with the connection guard, the connection cap, and `services`
    /// run in the same service group as the server.
    public func application(services: [any Service] = [], logger: Logger? = nil, onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            router: makeRouter(),
            server: .guardedHTTP1(headerTimeout: .init(configuration.headerTimeout), idleTimeout: .init(configuration.idleTimeout)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "thermos-observer",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maximumConnections)),
            services: services,
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Every route, behind metrics, request logging, the Host and method checks and the
    /// security headers.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: HostCheckMiddleware(allowed: configuration.acceptedHosts))
        router.add(middleware: MethodCheckMiddleware(postPrefix: configuration.controlToken == nil ? nil : "/control/"))
        router.add(middleware: SecurityHeadersMiddleware())
        addJSONRoutes(router)
        addFileRoutes(router)
        pages.addRoutes(router)
        addControlRoutes(router)
        router.get("/metrics") { _, _ in
            let body = try await run { metrics.render(observer: observer) }
            return text(body, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/health") { _, _ in text("OK") }
        router.get("/vars") { _, _ in
            text(vars().map { "\($0.key) \($0.value.interpolationText)" }.joined(separator: "\n") + "\n", contentType: "text/plain; charset=iso-8859-1")
        }
        router.get("/vars.json") { _, _ in json(.map(vars())) }
        router.get("/vars/:var") { _, context in
            guard let value = vars()[parameter(context, "var")] else { return text("Unknown exported variable", status: .notFound) }
            return text(value.interpolationText)
        }
        return router
    }

    /// Runs blocking work off the cooperative pool within the handler budget.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await Offload.run(budget: configuration.handlerBudget, work)
    }

    func vars() -> OrderedDictionary<String, ConfigValue> {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let (active, finished) = observer.counts()
        var vars: OrderedDictionary<String, ConfigValue> = [
            "observer.roots": .list(observer.roots.map { .string($0) }),
            "observer.tasks.active": .integer(Int64(active)),
            "observer.tasks.finished": .integer(Int64(finished)),
            "observer.refreshes": .integer(Int64(observer.refreshCount)),
            "observer.sampling.last_round_seconds": .double(observer.lastSamplingRound.seconds),
            "observer.sampling.last_round_processes": .integer(Int64(observer.lastSamplingRound.processes)),
            "sys.argv": .list(arguments.map { .string($0) }),
            "sys.executable": .string(arguments.first ?? ""),
            "sys.platform": .string(field(uts.sysname).lowercased()),
            "sys.uname": .list([field(uts.sysname), field(uts.nodename), field(uts.release), field(uts.version), field(uts.machine)].map { .string($0) }),
            "sys.uptime": .double((wallClock() - startTime) * 1000 / 1000),
            "sys.version": .string("thermos-swift observer"),
        ]
        vars.sort { $0.key < $1.key }
        return vars
    }

    /// A path parameter, percent-decoded (a process named `web server` arrives as `web%20server`).
    static func parameter(_ context: BasicRequestContext, _ name: String) -> String {
        context.parameters.get(name).map { SafeFiles.percentDecode($0) } ?? ""
    }

    func parameter(_ context: BasicRequestContext, _ name: String) -> String { Self.parameter(context, name) }

    /// The decoded catch-all path of a request.
    static func relativePath(_ context: BasicRequestContext) -> String {
        context.parameters.getCatchAll().map { SafeFiles.percentDecode($0) }.joined(separator: "/")
    }
}

/// A JSON response (`application/json`).
func json(_ value: ConfigValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.jsonText())))
}

/// A text response.
func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
    Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
}
