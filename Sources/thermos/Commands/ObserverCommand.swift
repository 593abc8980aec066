import ArgumentParser
import Dispatch
import Synchronization
import ThermosMonitor
import ThermosObserver

/// `thermos observer`: the web UI and JSON API over one or more roots.
struct ObserverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observer",
        abstract: "Serve the Thermos observer (web UI, Aurora-compatible JSON API, /metrics).",
        discussion: """
            Binds 127.0.0.1 by default (the original bound 0.0.0.0); pass --ip 0.0.0.0 to serve \
            other machines. New and finished tasks show up at once (inotify); the polling \
            interval is only a safety-net rescan.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Option(help: "Address to bind.")
    var ip = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 1338

    @Option(name: [.customLong("polling-interval-secs"), .customLong("polling_interval_secs")], help: "Safety-net rescan period of the roots.")
    var pollingIntervalSecs: Double = 5

    @Option(name: [.customLong("task-process-collection-interval-secs"), .customLong("task_process_collection_interval_secs")], help: "Process sampling period.")
    var taskProcessCollectionIntervalSecs: Double = 20

    @Option(name: [.customLong("task-disk-collection-interval-secs"), .customLong("task_disk_collection_interval_secs")], help: "Sandbox disk usage period.")
    var taskDiskCollectionIntervalSecs: Double = 60

    @Flag(name: [.customLong("disable-task-resource-collection"), .customLong("disable_task_resource_collection")], help: "Do not sample processes or disk.")
    var disableTaskResourceCollection = false

    func run() throws {
        var settings = ObserverSettings()
        settings.pollingInterval = max(0.1, pollingIntervalSecs)
        settings.processCollectionInterval = max(0.1, taskProcessCollectionIntervalSecs)
        settings.diskCollectionInterval = max(0.1, taskDiskCollectionIntervalSecs)
        settings.resourceCollection = !disableTaskResourceCollection
        let observer: TaskObserver
        let server: ObserverServer
        do {
            observer = try TaskObserver(roots: rootOptions.roots, settings: settings)
            server = try ObserverServer(observer: observer)
        } catch {
            throw fail("thermos observer: \(error)", code: 2)
        }
        observer.start()
        print("Observer on http://\(ip):\(port)/ (bound to \(ip)\(ip == "127.0.0.1" ? ", this machine only; --ip 0.0.0.0 serves others" : "")) watching \(rootOptions.roots.joined(separator: ", "))")
        // The root command is synchronous: run the server on the concurrency pool and block here.
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Task { [ip, port] in
            do {
                try await server.run(host: ip, port: port)
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        done.wait()
        observer.stop()
        if let message = failure.withLock({ $0 }) { throw fail("thermos observer: \(message)") }
    }
}
