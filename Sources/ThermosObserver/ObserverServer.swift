import Glibc
public import Hummingbird
import OrderedCollections
import ThermosCheckpoint
import ThermosConfig
public import ThermosMonitor

/// The observer's HTTP application: the original's JSON routes (reference §4.3), the HTML UI
/// (§4.5), file and log chunks (§4.4) and `/metrics`.
public struct ObserverServer: Sendable {
    public let observer: TaskObserver
    public let model: ObserverModel
    let pages: ObserverPages
    let metrics: ObserverMetrics
    let startTime = wallClock()
    let arguments: [String]

    public init(observer: TaskObserver, arguments: [String] = CommandLine.arguments) throws {
        self.observer = observer
        model = ObserverModel(observer: observer)
        pages = try ObserverPages(model: model)
        metrics = ObserverMetrics()
        self.arguments = arguments
    }

    /// An application bound to `host:port`.
    public func application(host: String, port: Int) -> some ApplicationProtocol {
        Application(router: makeRouter(), configuration: .init(address: .hostname(host, port: port), serverName: "thermos-observer"))
    }

    /// Serves until SIGTERM or SIGINT.
    public func run(host: String, port: Int) async throws {
        try await application(host: host, port: port).runService()
    }

    /// Every route.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        addJSONRoutes(router)
        addFileRoutes(router)
        pages.addRoutes(router)
        router.get("/metrics") { _, _ in
            text(metrics.render(observer: observer, model: model), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/health") { _, _ in text("OK") }
        router.get("/vars") { _, _ in
            text(vars().map { "\($0.key) \($0.value.interpolationText)" }.joined(separator: "\n") + "\n", contentType: "text/plain; charset=iso-8859-1")
        }
        router.get("/vars.json") { _, _ in json(.map(vars())) }
        router.get("/vars/:var") { _, context in
            guard let name = context.parameters.get("var"), let value = vars()[name] else {
                return text("Unknown exported variable", status: .notFound)
            }
            return text(value.interpolationText)
        }
        return router
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

    func addJSONRoutes(_ router: Router<BasicRequestContext>) {
        for path in ["/j/task_ids", "/j/task_ids/:which", "/j/task_ids/:which/:offset", "/j/task_ids/:which/:offset/:num"] {
            router.get(RouterPath(path)) { _, context in
                let offset = context.parameters.get("offset").map { Int($0) } ?? 0
                let num = context.parameters.get("num").map { Int($0) } ?? 20
                guard let offset, let num,
                      let page = model.taskIDs(which: context.parameters.get("which"), offset: offset, num: num)
                else { return json(.map(["error": .string("Invalid task type or paging")]), status: .internalServerError) }
                return json(page)
            }
        }
        router.get("/j/task_id_count") { _, _ in json(model.taskIDCount()) }
        router.get("/j/task") { request, _ in
            let ids = (request.uri.queryParameters.get("task_id") ?? "").split(separator: ",").map(String.init)
            var result: OrderedDictionary<String, ConfigValue> = [:]
            for id in ids {
                guard let task = model.task(id) else { return json(.map([:]), status: .notFound) }
                result[id] = task
            }
            return json(.map(result))
        }
        router.get("/j/task/:task_id") { _, context in
            let id = context.parameters.get("task_id") ?? ""
            guard let task = model.task(id) else { return json(.map([:]), status: .notFound) }
            return json(.map([id: task]))
        }
        router.get("/j/process/:task_id") { _, _ in json(.map([:])) }
        for path in ["/j/process/:task_id/:process", "/j/process/:task_id/:process/:run"] {
            router.get(RouterPath(path)) { _, context in
                let runText = context.parameters.get("run")
                let run = runText.flatMap { Int($0) }
                guard runText == nil || run != nil,
                      let dict = model.process(context.parameters.get("task_id") ?? "", context.parameters.get("process") ?? "", run: run)
                else { return json(.map([:])) }
                return json(dict)
            }
        }
        router.get("/j/processes") { request, _ in
            let ids = (request.uri.queryParameters.get("task_id") ?? "").split(separator: ",").map(String.init)
            var result: OrderedDictionary<String, ConfigValue> = [:]
            for id in ids { result[id] = model.processes(id) ?? .map([:]) }
            return json(.map(result))
        }
    }

    /// The sandbox of a task (nil without a header or with a relative sandbox).
    func sandbox(_ taskID: String) -> String? {
        guard let sandbox = observer.task(taskID)?.task.state.header?.sandbox, sandbox.hasPrefix("/") else { return nil }
        return sandbox
    }

    /// `<log_dir>/<process>/<run>/<logtype>` resolved inside the task's log directory.
    func logFile(_ taskID: String, process: String, run: String, logType: String) -> String? {
        guard ["stdout", "stderr"].contains(logType), let entry = observer.task(taskID), let runNumber = Int(run) else { return nil }
        let base = TaskPath.logBase(root: entry.location.root, taskID: taskID, header: entry.task.state.header)
        return SafeFiles.regularFile("\(SafeFiles.percentDecode(process))/\(runNumber)/\(logType)", in: base)
    }

    /// The decoded catch-all path of a request.
    static func relativePath(_ context: BasicRequestContext) -> String {
        context.parameters.getCatchAll().map { SafeFiles.percentDecode($0) }.joined(separator: "/")
    }

    func addFileRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/logdata/:task_id/:process/:run/:logtype") { request, context in
            let path = logFile(
                context.parameters.get("task_id") ?? "", process: context.parameters.get("process") ?? "",
                run: context.parameters.get("run") ?? "", logType: context.parameters.get("logtype") ?? "")
            return json(SafeFiles.chunk(
                path: path, offset: request.uri.queryParameters.get("offset"), length: request.uri.queryParameters.get("length")))
        }
        router.get("/filedata/:task_id/**") { request, context in
            let path = sandbox(context.parameters.get("task_id") ?? "").flatMap {
                SafeFiles.regularFile(Self.relativePath(context), in: $0)
            }
            return json(SafeFiles.chunk(
                path: path, offset: request.uri.queryParameters.get("offset"), length: request.uri.queryParameters.get("length")))
        }
        router.get("/download/:task_id/**") { _, context in
            guard let base = sandbox(context.parameters.get("task_id") ?? ""),
                  let path = SafeFiles.regularFile(Self.relativePath(context), in: base),
                  let bytes = ObservedTaskFiles.read(path)
            else { return text("Not found", status: .notFound) }
            let name = String(path.split(separator: "/").last ?? "file").filter { $0 != "\"" && $0 != "\\" }
            return Response(
                status: .ok,
                headers: [.contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\"\(name)\""],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

/// Reads whole files for downloads.
enum ObservedTaskFiles {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
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
