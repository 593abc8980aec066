import Glibc
import Hummingbird
import Testing
import ThermosTestSupport
@testable import ThermosObserver

/// Blocking work runs on the thread pool within the handler budget: past it the caller gets a
/// 503 at once, whatever the work is still doing.
@Suite struct BudgetTests {
    @Test func workPastTheBudgetIsAnswered503AtOnce() async throws {
        let started = monotonicNow()
        do {
            _ = try await Offload.run(budget: .milliseconds(200)) { () -> Int in
                usleep(3_000_000)
                return 1
            }
            Issue.record("the budget did not expire")
        } catch let error as HTTPError {
            #expect(error.status == .serviceUnavailable)
        }
        #expect(monotonicNow() - started < 2.5)
        #expect(try await Offload.run(budget: .seconds(5)) { 42 } == 42)
    }
}
