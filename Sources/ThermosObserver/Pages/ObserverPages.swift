import Glibc
import Hummingbird
import Mustache
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosMonitor

/// A rendered page: Sendable, so it can be built on the thread pool.
struct RenderedPage: Sendable {
    var html: String
    var status: HTTPResponse.Status = .ok

    var response: Response { text(html, status: status, contentType: "text/html; charset=utf-8") }
}

/// The HTML UI (reference §4.5), rendered with swift-mustache from the embedded templates
/// (`Assets/*.mustache`). Every link is built from URL-escaped parts; `{{x}}` HTML-escapes.
struct ObserverPages: Sendable {
    let model: ObserverModel
    let files: TaskFiles
    let budget: Duration
    let library: MustacheLibrary
    let host: String
    /// The CSRF token of the control forms; nil: no Kill/Restart buttons.
    let controlToken: String?

    init(model: ObserverModel, files: TaskFiles, budget: Duration, controlToken: String? = nil) throws {
        self.controlToken = controlToken
        self.model = model
        self.files = files
        self.budget = budget
        var library = MustacheLibrary()
        for (name, text) in EmbeddedAssets.files where name.hasSuffix(".mustache") {
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
        host = ObserverConfiguration.hostname()
    }

    var observer: TaskObserver { model.observer }

    func page(_ name: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> RenderedPage {
        var context = context
        context["host"] = host
        if context["title"] == nil { context["title"] = "thermos(\(host))" }
        return RenderedPage(html: library.render(context, withTemplate: name) ?? "", status: status)
    }

    func notFound(_ message: String) -> RenderedPage {
        page("error", ["message": message], status: .notFound)
    }

    /// Builds a page on the thread pool within the handler budget.
    func render(_ build: @escaping @Sendable () -> RenderedPage) async throws -> Response {
        try await Offload.run(budget: budget, build).response
    }

    func addRoutes(_ router: Router<BasicRequestContext>) {
        let parameter = ObserverServer.parameter
        router.get("/") { _, _ in page("index", [:]).response }
        for path in ["/main", "/main/:type", "/main/:type/:offset", "/main/:type/:offset/:num"] {
            router.get(RouterPath(path)) { _, context in
                let type = parameter(context, "type").isEmpty ? "all" : parameter(context, "type")
                guard let listType = TaskListType(rawValue: type) else { return text("Invalid task type: \(type)", status: .notFound) }
                guard let offset = Int(context.parameters.get("offset") ?? "0"), let num = Int(context.parameters.get("num") ?? "20"),
                      (1...1000).contains(num)
                else { return text("Invalid offset or count (count is 1…1000)", status: .notFound) }
                return try await render { RenderedPage(html: mainFragment(listType, offset: offset, num: num)) }
            }
        }
        router.get("/task/:task_id") { _, context in
            let id = parameter(context, "task_id")
            return try await render { taskPage(id) }
        }
        router.get("/process/:task_id/:process") { _, context in
            let id = parameter(context, "task_id"), name = parameter(context, "process")
            return try await render { processPage(id, name) }
        }
        router.get("/rawtask/:task_id") { _, context in
            let id = parameter(context, "task_id")
            return try await render {
                guard let entry = observer.task(id) else { return notFound("Failed to find task \(id).  Try again shortly.") }
                return page("raw", ["taskID": id, "taskURL": URLPath.task(id), "json": (entry.task.taskJSON ?? .map([:])).prettyJSONText()])
            }
        }
        router.get("/logs/:task_id/:process/:run/:logtype") { _, context in
            let id = parameter(context, "task_id"), process = parameter(context, "process")
            let run = parameter(context, "run"), type = parameter(context, "logtype")
            guard type == "stdout" || type == "stderr" else { return notFound("No such log type: \(type)").response }
            guard observer.task(id) != nil, let runNumber = Int(run) else { return notFound("Failed to find task \(id).").response }
            let data = URLPath.logData(id, process, runNumber, type)
            return page("pailer", [
                "taskID": id, "taskURL": URLPath.task(id), "label": "\(process) run \(runNumber) \(type)",
                "dataURL": data, "download": data + "?offset=0",
            ]).response
        }
        router.get("/file/:task_id/**") { _, context in
            let id = parameter(context, "task_id")
            let path = ObserverServer.relativePath(context)
            return page("pailer", [
                "taskID": id, "taskURL": URLPath.task(id), "label": path, "dataURL": URLPath.join("filedata", id, path),
                "download": URLPath.join("download", id, path),
            ]).response
        }
        router.get("/browse/:task_id") { request, context in
            let id = parameter(context, "task_id")
            let offset = Int(request.uri.queryParameters.get("offset") ?? "0") ?? 0
            return try await render { browsePage(id, "", offset: offset) }
        }
        router.get("/browse/:task_id/**") { request, context in
            let id = parameter(context, "task_id"), path = ObserverServer.relativePath(context)
            let offset = Int(request.uri.queryParameters.get("offset") ?? "0") ?? 0
            return try await render { browsePage(id, path, offset: offset) }
        }
        router.get("/assets/:file") { _, context in
            let name = parameter(context, "file")
            guard !name.hasSuffix(".mustache"), let body = EmbeddedAssets.files[name] else { return text("Unknown asset: \(name)", status: .notFound) }
            return text(body, contentType: name.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8")
        }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
    }

    func mainFragment(_ type: TaskListType, offset: Int, num: Int) -> String {
        let tasks = observer.tasks(type)
        let start = min(ObserverModel.normalizedOffset(offset, count: tasks.count), tasks.count)
        let now = wallClock()
        let rows: [[String: Any]] = tasks.dropFirst(start).prefix(num).map { entry in
            let state = entry.task.state
            let active = !entry.task.isFinished
            let resources = active ? entry.task.latestResources : TaskResourceSample(timestamp: 0)
            let launched = Double(ObserverModel.launchTimestamp(state))
            let id = entry.location.taskID
            return [
                "taskID": id, "taskURL": URLPath.task(id), "browseURL": URLPath.join("browse", id),
                "name": ObserverModel.name(entry.task), "user": state.header?.user ?? "",
                "launched": Format.utc(launched, short: true), "launchedUTC": Format.utc(launched),
                "state": state.taskState?.name ?? "ACTIVE", "stateAgo": Format.ago(Double(ObserverModel.stateTimestamp(state)), now: now),
                "cpu": active && resources.process.rate > 0 ? Format.fixed(resources.process.rate, 3) : "",
                "ram": active && resources.process.rss > 0 ? Format.bytes(resources.process.rss) : "",
                "disk": active && resources.disk > 0 ? Format.bytes(resources.disk) : "",
                "ports": entry.location.directory == .active ? portLinks(state) : [],
            ]
        }
        // start ≤ count and num ≤ 1000: none of these can overflow.
        var context: [String: Any] = [
            "type": type.rawValue, "first": start, "last": max(start, min(tasks.count, start + num) - 1), "count": tasks.count, "rows": rows,
        ]
        if start > 0 { context["newer"] = "/main/\(type.rawValue)/\(max(0, start - num))/\(num)" }
        if start + num < tasks.count { context["older"] = "/main/\(type.rawValue)/\(start + num)/\(num)" }
        return library.render(context, withTemplate: "main") ?? ""
    }

    func portLinks(_ state: RunnerState) -> [[String: Any]] {
        let hostname = state.header?.hostname ?? host
        return (state.header?.ports ?? [:]).sorted { $0.key < $1.key }.map {
            ["name": $0.key, "port": $0.value, "url": "http://\(URLPath.escape(hostname, keepSlash: false)):\($0.value)/"]
        }
    }

    func taskPage(_ id: String) -> RenderedPage {
        guard let entry = observer.task(id) else { return notFound("Failed to find task \(id).  Try again shortly.") }
        let task = entry.task
        let state = task.state
        let now = wallClock()
        let active = !task.isFinished
        let latest = active ? task.latestResources : TaskResourceSample(timestamp: 0)
        let history = active ? task.resourceHistory : []
        let probes = TaskFiles(observer: observer).probes(id)
        let stopped = task.stoppedProcesses
        let processes: [[String: Any]] = state.processes.map { name, runs in
            let last = runs.last ?? ProcessStatus()
            let sample = latest.byProcess[name]?.sample
            var row = runContext(id, name, runs.count - 1, last, now: now)
            row["cpu"] = sample.map { Format.fixed($0.rate, 3) } ?? ""
            row["ram"] = sample.map { Format.bytes($0.rss) } ?? ""
            row["active"] = active
            row.merge(ProbePageContext.members(probes?.processes[name], stopped: stopped.contains(name), now: now)) { $1 }
            if active, controlToken != nil { row["restartURL"] = "/control/task/\(URLPath.escape(id, keepSlash: false))/restart/\(URLPath.escape(name, keepSlash: false))" }
            return row
        }.sorted { ($0["sortKey"] as? Double ?? 0) < ($1["sortKey"] as? Double ?? 0) }
        let launched = Double(ObserverModel.launchTimestamp(state))
        let window = history.count >= 2 ? Format.duration((history.last?.timestamp ?? 0) - (history.first?.timestamp ?? 0)) : ""
        var context: [String: Any] = [
            "title": "\(id) - thermos", "taskID": id, "name": ObserverModel.name(task), "state": state.taskState?.name ?? "ACTIVE",
            "user": state.header?.user ?? "", "hostname": state.header?.hostname ?? "", "sandbox": state.header?.sandbox ?? "",
            "browseURL": URLPath.join("browse", id), "rawURL": URLPath.join("rawtask", id),
            "launched": Format.ago(launched, now: now), "launchedUTC": Format.utc(launched), "ports": portLinks(state),
            "active": active, "cpu": Format.fixed(latest.process.rate, 3), "ram": Format.bytes(latest.process.rss),
            "disk": Format.bytes(latest.disk), "processCount": latest.processCount, "processes": processes,
            "cpuSpark": Format.sparkline(history.map(\.process.rate), label: "cpu, last \(window)", format: { Format.fixed($0, 2) + " cores" }),
            "ramSpark": Format.sparkline(history.map { Double($0.process.rss) }, label: "ram, last \(window)", format: { Format.bytes(Int64($0)) }),
            "statuses": state.statuses.map { status -> [String: Any] in
                let at = Double(status.timestampMs ?? 0) / 1000
                return ["state": status.state?.name ?? "None", "ago": Format.ago(at, now: now), "utc": Format.utc(at)]
            },
        ]
        if let corruption = task.monitor.corruption { context["corruption"] = corruption.description }
        if let health = probes?.health { context["health"] = ProbePageContext.describe("health check", health, now: now) }
        if active, let controlToken {
            context["controlKillURL"] = "/control/task/\(URLPath.escape(id, keepSlash: false))/kill"
            context["csrf"] = controlToken
        }
        return page("task", context)
    }

    func runContext(_ taskID: String, _ name: String, _ run: Int, _ status: ProcessStatus, now: Double) -> [String: Any] {
        [
            "taskID": taskID, "name": name, "run": run, "state": status.state?.name ?? "None",
            "processURL": URLPath.components("process", taskID, name),
            "stdoutURL": URLPath.log(taskID, name, run, "stdout"), "stderrURL": URLPath.log(taskID, name, run, "stderr"),
            "returnCode": status.returnCode.map(String.init) ?? "", "started": status.startTime.map { Format.ago($0, now: now) } ?? "",
            "startUTC": status.startTime.map { Format.utc($0) } ?? "", "finished": status.stopTime.map { Format.ago($0, now: now) } ?? "",
            "stopUTC": status.stopTime.map { Format.utc($0) } ?? "", "sortKey": status.startTime ?? Double.greatestFiniteMagnitude,
        ]
    }

    func processPage(_ id: String, _ name: String) -> RenderedPage {
        guard let entry = observer.task(id) else { return notFound("Invalid task/process combination: \(id)/\(name)") }
        guard let runs = entry.task.state.processes[name], !runs.isEmpty else {
            return notFound("Could not recover process: \(id)/\(name)")
        }
        let now = wallClock()
        var cmdline = ""
        if case .list(let processes)? = entry.task.taskJSON?["processes"] {
            for case .map(let process) in processes where process["name"] == .string(name) {
                if case .string(let text)? = process["cmdline"] { cmdline = text }
            }
        }
        let active = !entry.task.isFinished
        let sample = active ? entry.task.latestResources.byProcess[name]?.sample : nil
        let probes = TaskFiles(observer: observer).probes(id)?.processes[name]
        var context: [String: Any] = [
            "title": "\(id)/\(name) - thermos", "taskID": id, "taskURL": URLPath.task(id), "name": name,
            "state": runs.last?.state?.name ?? "None", "cmdline": cmdline, "active": active,
            "cpu": sample.map { Format.fixed($0.rate, 3) } ?? "N/A", "ram": sample.map { Format.bytes($0.rss) } ?? "N/A",
            "userTime": sample.map { Format.fixed($0.user, 2) } ?? "N/A", "systemTime": sample.map { Format.fixed($0.system, 2) } ?? "N/A",
            "threads": sample.map { String($0.threads) } ?? "N/A",
            "runs": runs.enumerated().reversed().map { runContext(id, name, $0.offset, $0.element, now: now) },
        ]
        context.merge(ProbePageContext.members(probes, stopped: entry.task.stoppedProcesses.contains(name), now: now)) { $1 }
        return page("process", context)
    }

    /// A page of a sandbox directory, listed through the sandbox's descriptor.
    func browsePage(_ id: String, _ path: String, offset: Int) -> RenderedPage {
        guard observer.task(id) != nil else { return notFound("Failed to find task \(id).  Try again shortly.") }
        let base: [String: Any] = ["taskID": id, "taskURL": URLPath.task(id), "path": path]
        guard case .success(let sandbox) = files.sandbox(id) else {
            return page("browse", base.merging(["exists": false, "entries": []]) { $1 })
        }
        guard case .success(let directory) = sandbox.openDirectory(path) else { return notFound("Sandbox does not exist.") }
        let pageSize = SafeFiles.listingPage
        let (listed, total) = directory.list(offset: offset, limit: pageSize)
        let start = min(max(0, offset), total)  // saturated: no arithmetic below can overflow
        var entries: [[String: Any]] = []
        if !path.isEmpty && start == 0 {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            entries.append(["name": "..", "dir": true, "url": URLPath.join("browse", id, parent), "mode": "", "size": "", "mtime": ""])
        }
        for entry in listed {
            let link = path.isEmpty ? entry.name : path + "/" + entry.name
            entries.append([
                "name": entry.name, "dir": entry.isDirectory,
                "url": URLPath.join(entry.isDirectory ? "browse" : "file", id, link), "downloadURL": URLPath.join("download", id, link),
                "mode": Format.mode(entry.mode), "size": entry.isDirectory ? "" : Format.bytes(entry.size),
                "mtime": Format.utc(entry.modified, short: true),
            ])
        }
        var context = base.merging([
            "exists": true, "entries": entries, "first": start, "last": max(start, min(total, start + pageSize) - 1),
            "total": total,
        ]) { $1 }
        let here = URLPath.join("browse", id, path)
        if start > 0 { context["previous"] = here + "?offset=\(max(0, start - pageSize))" }
        if start < total - pageSize { context["next"] = here + "?offset=\(start + pageSize)" }
        return page("browse", context)
    }
}

/// Links built from URL-escaped parts.
enum URLPath {
    /// Percent-encodes everything but unreserved characters (and `/` when `keepSlash`).
    static func escape(_ text: String, keepSlash: Bool = true) -> String {
        var out = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || "-._~".contains(character) || (keepSlash && byte == 0x2F)) {
                out.append(character)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// `/<route>/<escaped task id>[/<escaped path>]`.
    static func join(_ route: String, _ taskID: String, _ path: String = "") -> String {
        "/\(route)/\(escape(taskID, keepSlash: false))" + (path.isEmpty ? "" : "/" + escape(path))
    }

    /// `/<route>/<escaped task id>/<escaped process>`: both parts single components.
    static func components(_ route: String, _ taskID: String, _ name: String) -> String {
        "/\(route)/\(escape(taskID, keepSlash: false))/\(escape(name, keepSlash: false))"
    }

    static func task(_ id: String) -> String { "/task/\(escape(id, keepSlash: false))" }

    static func log(_ id: String, _ process: String, _ run: Int, _ type: String) -> String {
        "/logs/\(escape(id, keepSlash: false))/\(escape(process, keepSlash: false))/\(run)/\(type)"
    }

    static func logData(_ id: String, _ process: String, _ run: Int, _ type: String) -> String {
        "/logdata/\(escape(id, keepSlash: false))/\(escape(process, keepSlash: false))/\(run)/\(type)"
    }
}
