import Hummingbird
import NIOCore
import ThermosControl
import ThermosMonitor

/// The observer's control actions (only with `--enable-control`): `POST /control/task/<id>/kill`
/// and `POST /control/task/<id>/restart/<process>`, sent to the task's runner over its control
/// socket. A request must come from a page of this observer: its `Origin` (or, without one, its
/// `Referer`) must name the same host and port as its `Host` — one of the accepted hosts — and its
/// form must carry the token drawn when the observer started (`csrf`). Without `--enable-control`
/// the routes do not exist and POST is 405 everywhere.
extension ObserverServer {
    /// The preemption wait of a kill from the observer (as `thermos kill`'s default).
    static let controlKillWait = 60.0

    func addControlRoutes(_ router: Router<BasicRequestContext>) {
        guard let token = configuration.controlToken else { return }
        let accepted = Set(configuration.acceptedHosts.map { HostCheckMiddleware<BasicRequestContext>.normalized($0) })
        let observer = self.observer
        let budget = configuration.handlerBudget
        @Sendable func handle(_ request: Request, taskID: String, _ control: ControlRequest) async throws -> Response {
            var request = request
            if let refusal = Self.originRefusal(request, accepted: accepted) { return text(refusal + "\n", status: .forbidden) }
            let body = try await request.collectBody(upTo: 4096)
            let form = Self.formFields(String(buffer: body))
            guard let sent = form["csrf"], Self.constantTimeEqual(sent, token) else {
                return text("Missing or wrong CSRF token: reload the task page and try again\n", status: .forbidden)
            }
            guard let entry = observer.task(taskID) else { return text("No task \(taskID)\n", status: .notFound) }
            let root = entry.task.root
            let outcome: Result<String, TaskControl.Failure> = try await Offload.run(budget: budget) {
                Result { () throws(TaskControl.Failure) in try TaskControl.send(control, root: root, taskID: taskID, timeout: 5) }
            }
            switch outcome {
            case .success:
                var response = Response(status: .seeOther)
                response.headers[.location] = URLPath.task(taskID)
                return response
            case .failure(let failure):
                return text(failure.message + "\n", status: Self.status(for: failure.code))
            }
        }
        router.post("/control/task/:task_id/kill") { request, context in
            try await handle(request, taskID: Self.parameter(context, "task_id"), .kill(preemptionWait: Self.controlKillWait))
        }
        router.post("/control/task/:task_id/restart/:process") { request, context in
            try await handle(request, taskID: Self.parameter(context, "task_id"), .restart(process: Self.parameter(context, "process")))
        }
    }

    /// Why a control request is not same-origin (nil when it is).
    static func originRefusal(_ request: Request, accepted: Set<String>) -> String? {
        guard let host = request.head.authority?.lowercased() else { return "Missing Host" }
        guard let source = request.headers[.origin] ?? request.headers[.referer] else {
            return "Missing Origin: control requests must come from the observer's own pages"
        }
        let lowered = source.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else { return "Cross-origin request refused (\(source.prefix(80)))" }
        let authority = lowered.drop { $0 != ":" }.dropFirst(3).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard String(authority) == host, accepted.contains(HostCheckMiddleware<BasicRequestContext>.normalized(host)) else {
            return "Cross-origin request refused (\(source.prefix(80)))"
        }
        return nil
    }

    /// `application/x-www-form-urlencoded` fields (`+` is a space).
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in SafeFiles.percentDecode(String(text.map { $0 == "+" ? " " : $0 })) }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    static func status(for code: TaskControl.Failure.Code) -> HTTPResponse.Status {
        switch code {
        case .unknownTask, .refused(.unknownProcess): .notFound
        case .permissionDenied: .forbidden
        case .finished, .runnerNotRunning, .refused: .conflict
        case .unreachable: .badGateway
        }
    }
}

/// A random hex token for one observer start (the CSRF token of its control forms).
public func makeControlToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<4).map { _ in
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
}
