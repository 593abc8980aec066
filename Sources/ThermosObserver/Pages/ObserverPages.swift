import Glibc
import Hummingbird
import Mustache
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
import ThermosMonitor

/// The HTML UI (reference §4.5), rendered with swift-mustache from embedded templates.
struct ObserverPages: Sendable {
    let model: ObserverModel
    let library: MustacheLibrary
    let host: String

    init(model: ObserverModel) throws {
        self.model = model
        var library = MustacheLibrary()
        for (name, text) in Templates.all { try library.register(text, named: name) }
        self.library = library
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        host = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var observer: TaskObserver { model.observer }

    func page(_ name: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        var context = context
        context["host"] = host
        if context["title"] == nil { context["title"] = "thermos(\(host))" }
        let html = library.render(context, withTemplate: name) ?? ""
        return text(html, status: status, contentType: "text/html; charset=utf-8")
    }

    func notFound(_ message: String) -> Response {
        page("error", ["message": message], status: .notFound)
    }

    func addRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in page("index", [:]) }
        for path in ["/main", "/main/:type", "/main/:type/:offset", "/main/:type/:offset/:num"] {
            router.get(RouterPath(path)) { _, context in
                let type = context.parameters.get("type") ?? "all"
                guard let listType = TaskListType(rawValue: type) else { return text("Invalid task type: \(type)", status: .notFound) }
                guard let offset = Int(context.parameters.get("offset") ?? "0"), let num = Int(context.parameters.get("num") ?? "20") else {
                    return text("Invalid offset or count", status: .notFound)
                }
                return text(mainFragment(listType, offset: offset, num: num), contentType: "text/html; charset=utf-8")
            }
        }
        router.get("/task/:task_id") { _, context in taskPage(context.parameters.get("task_id") ?? "") }
        router.get("/process/:task_id/:process") { _, context in
            processPage(context.parameters.get("task_id") ?? "", context.parameters.get("process") ?? "")
        }
        router.get("/rawtask/:task_id") { _, context in
            let id = context.parameters.get("task_id") ?? ""
            guard let entry = observer.task(id) else { return notFound("Failed to find task \(id).  Try again shortly.") }
            return page("raw", ["taskID": id, "json": (entry.task.taskJSON ?? .map([:])).prettyJSONText()])
        }
        router.get("/logs/:task_id/:process/:run/:logtype") { _, context in
            let id = context.parameters.get("task_id") ?? "", process = context.parameters.get("process") ?? ""
            let run = context.parameters.get("run") ?? "", type = context.parameters.get("logtype") ?? ""
            guard type == "stdout" || type == "stderr" else { return notFound("No such log type: \(type)") }
            guard observer.task(id) != nil, let runNumber = Int(run) else { return notFound("Failed to find task \(id).") }
            return page("pailer", [
                "taskID": id, "label": "\(process) run \(runNumber) \(type)",
                "dataURL": "/logdata/\(pathEscape(id))/\(pathEscape(process))/\(runNumber)/\(type)", "download": "/logdata/\(pathEscape(id))/\(pathEscape(process))/\(runNumber)/\(type)?offset=0",
            ])
        }
        router.get("/file/:task_id/**") { _, context in
            let id = context.parameters.get("task_id") ?? ""
            let path = ObserverServer.relativePath(context)
            return page("pailer", [
                "taskID": id, "label": path, "dataURL": "/filedata/\(pathEscape(id))/\(pathEscape(path))",
                "download": "/download/\(pathEscape(id))/\(pathEscape(path))",
            ])
        }
        router.get("/browse/:task_id") { _, context in browsePage(context.parameters.get("task_id") ?? "", "") }
        router.get("/browse/:task_id/**") { _, context in
            browsePage(context.parameters.get("task_id") ?? "", ObserverServer.relativePath(context))
        }
        router.get("/assets/:file") { _, context in
            let name = context.parameters.get("file") ?? ""
            guard let (type, body) = Assets.files[name] else { return text("Unknown asset: \(name)", status: .notFound) }
            return text(body, contentType: type)
        }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
    }

    func mainFragment(_ type: TaskListType, offset: Int, num: Int) -> String {
        let tasks = observer.tasks(type)
        let start = ObserverModel.normalizedOffset(offset, count: tasks.count)
        let now = wallClock()
        let rows: [[String: Any]] = tasks.dropFirst(start).prefix(max(0, num)).map { entry in
            let state = entry.task.state
            let resources = entry.task.isFinished ? TaskResourceSample(timestamp: 0) : entry.task.latestResources
            let launched = Double(ObserverModel.launchTimestamp(state))
            return [
                "taskID": entry.location.taskID, "name": ObserverModel.name(entry.task), "role": state.header?.user ?? "",
                "launched": Format.utc(launched, short: true), "launchedUTC": Format.utc(launched),
                "state": state.taskState?.name ?? "ACTIVE", "stateAgo": Format.ago(Double(ObserverModel.stateTimestamp(state)), now: now),
                "cpu": resources.process.rate > 0 ? Format.fixed(resources.process.rate, 3) : "",
                "ram": resources.process.rss > 0 ? Format.megabytes(resources.process.rss) : "",
                "disk": resources.disk > 0 ? Format.megabytes(resources.disk) : "",
                "ports": entry.location.directory == .active ? portLinks(state) : [],
            ]
        }
        let newer = start > 0 ? "/main/\(type.rawValue)/\(max(0, start - num))/\(num)" : nil
        let older = start + num < tasks.count ? "/main/\(type.rawValue)/\(start + num)/\(num)" : nil
        var context: [String: Any] = [
            "type": type.rawValue, "first": start, "last": max(start, min(tasks.count, start + num) - 1), "count": tasks.count, "rows": rows,
        ]
        if let newer { context["newer"] = newer }
        if let older { context["older"] = older }
        return library.render(context, withTemplate: "main") ?? ""
    }

    func portLinks(_ state: RunnerState) -> [[String: Any]] {
        let hostname = state.header?.hostname ?? host
        return (state.header?.ports ?? [:]).map { ["name": $0.key, "port": $0.value, "url": "http://\(hostname):\($0.value)/"] }
    }

    func taskPage(_ id: String) -> Response {
        guard let entry = observer.task(id) else { return notFound("Failed to find task \(id).  Try again shortly.") }
        let task = entry.task
        let state = task.state
        let now = wallClock()
        let finished = task.isFinished
        let latest = finished ? TaskResourceSample(timestamp: 0) : task.latestResources
        let history = finished ? [] : task.resourceHistory
        let processes: [[String: Any]] = state.processes.map { name, runs in
            let last = runs.last ?? ProcessStatus()
            let sample = latest.byProcess[name]?.sample
            return runContext(id, name, runs.count - 1, last, now: now).merging([
                "cpu": sample.map { Format.fixed($0.rate, 3) } ?? "", "ram": sample.map { Format.megabytes($0.rss) } ?? "",
            ]) { $1 }
        }.sorted { ($0["sortKey"] as? Double ?? 0) < ($1["sortKey"] as? Double ?? 0) }
        let launched = Double(ObserverModel.launchTimestamp(state))
        var context: [String: Any] = [
            "title": "\(id) - thermos", "taskID": id, "name": ObserverModel.name(task), "state": state.taskState?.name ?? "ACTIVE",
            "user": state.header?.user ?? "", "hostname": state.header?.hostname ?? "", "sandbox": state.header?.sandbox ?? "",
            "launched": Format.ago(launched, now: now), "launchedUTC": Format.utc(launched), "ports": portLinks(state),
            "cpu": Format.fixed(latest.process.rate, 3), "ram": Format.megabytes(latest.process.rss), "disk": Format.megabytes(latest.disk),
            "processCount": latest.processCount, "processes": processes,
            "cpuSpark": Format.sparkline(history.map(\.process.rate)), "ramSpark": Format.sparkline(history.map { Double($0.process.rss) }),
            "statuses": state.statuses.map { status -> [String: Any] in
                let at = Double(status.timestampMs ?? 0) / 1000
                return ["state": status.state?.name ?? "None", "ago": Format.ago(at, now: now), "utc": Format.utc(at)]
            },
        ]
        if let corruption = task.monitor.corruption { context["corruption"] = corruption.description }
        return page("task", context)
    }

    func runContext(_ taskID: String, _ name: String, _ run: Int, _ status: ProcessStatus, now: Double) -> [String: Any] {
        [
            "taskID": taskID, "name": name, "run": run, "state": status.state?.name ?? "None",
            "returnCode": status.returnCode.map(String.init) ?? "", "started": status.startTime.map { Format.ago($0, now: now) } ?? "",
            "startUTC": status.startTime.map { Format.utc($0) } ?? "", "finished": status.stopTime.map { Format.ago($0, now: now) } ?? "",
            "stopUTC": status.stopTime.map { Format.utc($0) } ?? "", "sortKey": status.startTime ?? Double.greatestFiniteMagnitude,
        ]
    }

    func processPage(_ id: String, _ name: String) -> Response {
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
        let sample = entry.task.isFinished ? nil : entry.task.latestResources.byProcess[name]?.sample
        return page("process", [
            "title": "\(id)/\(name) - thermos", "taskID": id, "name": name, "state": runs.last?.state?.name ?? "None", "cmdline": cmdline,
            "cpu": sample.map { Format.fixed($0.rate, 3) } ?? "N/A", "ram": sample.map { Format.megabytes($0.rss) } ?? "N/A",
            "userTime": sample.map { Format.fixed($0.user, 2) } ?? "N/A", "systemTime": sample.map { Format.fixed($0.system, 2) } ?? "N/A",
            "threads": sample.map { String($0.threads) } ?? "N/A",
            "runs": runs.enumerated().reversed().map { runContext(id, name, $0.offset, $0.element, now: now) },
        ])
    }

    func browsePage(_ id: String, _ path: String) -> Response {
        guard let entry = observer.task(id) else { return notFound("Failed to find task \(id).  Try again shortly.") }
        guard let sandbox = entry.task.state.header?.sandbox, sandbox.hasPrefix("/"), SafeFiles.realPath(sandbox) != nil else {
            return page("browse", ["taskID": id, "path": path, "exists": false, "entries": []])
        }
        guard let directory = SafeFiles.resolve(path, in: sandbox, allowBase: true) else { return notFound("Sandbox does not exist.") }
        var entries: [[String: Any]] = []
        if !path.isEmpty {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            entries.append(["name": "..", "dir": true, "link": parent, "mode": "", "size": "", "mtime": ""])
        }
        for name in TaskDetectorListing.names(directory).sorted() {
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { continue }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            entries.append([
                "name": name, "dir": isDirectory, "link": path.isEmpty ? name : path + "/" + name,
                "mode": Format.mode(info.st_mode), "size": String(info.st_size), "mtime": Format.utc(Double(info.st_mtim.tv_sec), short: true),
            ])
        }
        return page("browse", ["taskID": id, "path": path, "exists": true, "entries": entries])
    }

    func pathEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if character.isASCII && (character.isLetter || character.isNumber || "-._~/".contains(character)) {
                out.append(character)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
