import Hummingbird
import OrderedCollections
import ThermosConfig

extension ObserverServer {
    /// The Aurora JSON routes (reference §4.3). Paging numbers that do not parse as 64-bit
    /// integers are refused; every value that parses is served without overflow.
    func addJSONRoutes(_ router: Router<BasicRequestContext>) {
        for path in ["/j/task_ids", "/j/task_ids/:which", "/j/task_ids/:which/:offset", "/j/task_ids/:which/:offset/:num"] {
            router.get(RouterPath(path)) { _, context in
                let which = context.parameters.get("which").map { SafeFiles.percentDecode($0) }
                let offset = context.parameters.get("offset").map { Int($0) } ?? 0
                let num = context.parameters.get("num").map { Int($0) } ?? 20
                guard let offset, let num else { return json(.map(["error": .string("Invalid task type or paging")]), status: .internalServerError) }
                guard let page = try await run({ model.taskIDs(which: which, offset: offset, num: num) }) else {
                    return json(.map(["error": .string("Invalid task type or paging")]), status: .internalServerError)
                }
                return json(page)
            }
        }
        router.get("/j/task_id_count") { _, _ in json(model.taskIDCount()) }
        router.get("/j/task") { request, _ in
            let ids = (request.uri.queryParameters.get("task_id") ?? "").split(separator: ",").map(String.init)
            let result = try await run { () -> ConfigValue? in
                var result: OrderedDictionary<String, ConfigValue> = [:]
                for id in ids {
                    guard let task = model.task(id) else { return nil }
                    result[id] = task
                }
                return .map(result)
            }
            guard let result else { return json(.map([:]), status: .notFound) }
            return json(result)
        }
        router.get("/j/task/:task_id") { _, context in
            let id = parameter(context, "task_id")
            guard let task = try await run({ model.task(id) }) else { return json(.map([:]), status: .notFound) }
            return json(.map([id: task]))
        }
        router.get("/j/process/:task_id") { _, _ in json(.map([:])) }
        for path in ["/j/process/:task_id/:process", "/j/process/:task_id/:process/:run"] {
            router.get(RouterPath(path)) { _, context in
                let runText = context.parameters.get("run")
                let run = runText.flatMap { Int($0) }
                guard runText == nil || run != nil else { return json(.map([:])) }
                let id = parameter(context, "task_id"), name = parameter(context, "process")
                return json(try await self.run { model.process(id, name, run: run) } ?? .map([:]))
            }
        }
        router.get("/j/processes") { request, _ in
            let ids = (request.uri.queryParameters.get("task_id") ?? "").split(separator: ",").map(String.init)
            let result = try await run {
                var result: OrderedDictionary<String, ConfigValue> = [:]
                for id in ids { result[id] = model.processes(id) ?? .map([:]) }
                return result
            }
            return json(.map(result))
        }
    }
}
