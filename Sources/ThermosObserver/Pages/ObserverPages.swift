import Hummingbird
import ThermosMonitor

/// The HTML UI (placeholder until the templates land).
struct ObserverPages: Sendable {
    let model: ObserverModel

    init(model: ObserverModel) throws {
        self.model = model
    }

    func addRoutes(_ router: Router<BasicRequestContext>) {}
}
