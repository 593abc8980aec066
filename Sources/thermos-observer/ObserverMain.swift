import ArgumentParser
import Glibc
import Hummingbird
import Logging
import Metrics
import ServiceLifecycle
import ThermosCheckpoint
import ThermosMonitor
import ThermosObserver

/// `thermos-observer` (also `thermos observer`): the web UI, Aurora-compatible JSON API and
/// `/metrics` over one or more checkpoint roots, with the rescan, process sampler and disk
/// walker as services of the server's service group. SIGTERM/SIGINT shut everything down.
@main
struct ObserverMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thermos observer",
        abstract: "Serve the Thermos observer (web UI, Aurora-compatible JSON API, /metrics).",
        discussion: """
            Binds 127.0.0.1 by default (the original bound 0.0.0.0); pass --ip 0.0.0.0 to serve \
            other machines, and --allowed-host for each name clients use to reach it (requests \
            whose Host is not the bound address, localhost, this machine's hostname or an \
            allowed name get 403). New and finished tasks show up at once (inotify); the \
            polling interval is the safety-net rescan. --port 0 picks a free port (printed).
            """,
        version: ThermosVersion.string
    )

    @Option(name: [.customLong("root")], help: ArgumentHelp("A Thermos checkpoint root (repeatable).", valueName: "dir"))
    var explicitRoots: [String] = []

    @Option(help: "Address to bind.")
    var ip = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 1338

    @Option(name: .customLong("allowed-host"), help: ArgumentHelp("Another name clients may send as Host (repeatable).", valueName: "name"))
    var allowedHosts: [String] = []

    @Option(name: [.customLong("polling-interval-secs"), .customLong("polling_interval_secs")], help: "Safety-net rescan period of the roots.")
    var pollingIntervalSecs: Double = 5

    @Option(name: [.customLong("task-process-collection-interval-secs"), .customLong("task_process_collection_interval_secs")], help: "Process sampling period.")
    var taskProcessCollectionIntervalSecs: Double = 20

    @Option(name: [.customLong("task-disk-collection-interval-secs"), .customLong("task_disk_collection_interval_secs")], help: "Sandbox disk usage period.")
    var taskDiskCollectionIntervalSecs: Double = 60

    @Flag(name: [.customLong("disable-task-resource-collection"), .customLong("disable_task_resource_collection")], help: "Do not sample processes or disk.")
    var disableTaskResourceCollection = false

    @Option(help: "Connections served at once (more wait in the backlog).")
    var maxConnections = 512

    @Option(help: "Seconds a new connection has to send its request head.")
    var headerTimeoutSecs: Double = 10

    @Option(help: "Seconds a kept-alive connection may stay idle.")
    var idleTimeoutSecs: Double = 60

    @Option(help: "Seconds a request handler may take before answering 503.")
    var handlerBudgetSecs: Double = 10

    @Flag(help: "Show Kill task and Restart process buttons (POST, same-origin, a CSRF token per start); off by default.")
    var enableControl = false

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical); requests are logged at debug.")
    var logLevel = "info"

    /// `--root`s, else `$THERMOS_ROOT`, else `/var/run/thermos` (plus the per-user root for a
    /// user who cannot write it, where that user's `thermos run` puts tasks).
    var roots: [String] {
        explicitRoots.isEmpty ? DefaultRoot.forReading() : explicitRoots
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
        for (name, value) in [
            ("--polling-interval-secs", pollingIntervalSecs), ("--task-process-collection-interval-secs", taskProcessCollectionIntervalSecs),
            ("--task-disk-collection-interval-secs", taskDiskCollectionIntervalSecs), ("--header-timeout-secs", headerTimeoutSecs),
            ("--idle-timeout-secs", idleTimeoutSecs), ("--handler-budget-secs", handlerBudgetSecs),
        ] where !(value > 0 && value < 1e7) {
            throw ValidationError("\(name) must be a positive number of seconds, got \(value)")
        }
    }

    func run() async throws {
        var settings = ObserverSettings()
        settings.pollingInterval = max(0.1, pollingIntervalSecs)
        settings.processCollectionInterval = max(0.1, taskProcessCollectionIntervalSecs)
        settings.diskCollectionInterval = max(0.1, taskDiskCollectionIntervalSecs)
        settings.resourceCollection = !disableTaskResourceCollection
        var configuration = ObserverConfiguration()
        configuration.host = ip
        configuration.port = port
        configuration.allowedHosts = allowedHosts
        configuration.maximumConnections = maxConnections
        configuration.headerTimeout = .seconds(headerTimeoutSecs)
        configuration.idleTimeout = .seconds(idleTimeoutSecs)
        configuration.handlerBudget = .seconds(handlerBudgetSecs)
        if enableControl { configuration.controlToken = makeControlToken() }
        let observer: TaskObserver
        let server: ObserverServer
        do {
            observer = try TaskObserver(roots: roots, settings: settings)
            server = try ObserverServer(observer: observer, configuration: configuration)
        } catch {
            printError("thermos observer: \(error)")
            throw ExitCode(2)
        }
        MetricsSystem.bootstrap(server.metrics.factory)
        var logger = Logger(label: "thermos-observer")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let roots = self.roots
        let app = server.application(services: observerServices(observer, metrics: server.metrics), logger: logger) { [ip] bound in
            let scope = ip == "127.0.0.1" ? ", this machine only; --ip 0.0.0.0 serves others" : ""
            printLine("Observer on http://\(ip):\(bound)/ (bound to \(ip)\(scope)) watching \(roots.joined(separator: ", "))", fd: 1)
        }
        do {
            try await app.runService()
        } catch {
            printError("thermos observer: \(error)")
            throw ExitCode(1)
        }
    }
}

/// One line straight to a descriptor (no stdio buffering: the banner is seen at once).
func printLine(_ message: String, fd: Int32) {
    var line = message + "\n"
    line.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
}

func printError(_ message: String) { printLine(message, fd: 2) }
