import Glibc
import Hummingbird
import Synchronization
import Testing
@testable import ThermosObserver

/// Blocking work runs on the thread pool within the handler budget: past it the caller gets a
/// 503 while the work is still blocked (it is released only after the answer arrived).
@Suite struct BudgetTests {
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    @Test func workPastTheBudgetIsAnswered503WhileItIsStillBlocked() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let (readEnd, ended) = (fds[0], Flag())
        do {
            _ = try await Offload.run(budget: .milliseconds(200)) { () -> Int in
                var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                _ = poll(&poller, 1, 60_000)  // until the test releases it (60 s safety)
                ended.value.store(true, ordering: .releasing)
                return 1
            }
            Issue.record("the budget did not expire")
        } catch let error as HTTPError {
            #expect(error.status == .serviceUnavailable)
        }
        let workEnded = ended.value.load(ordering: .acquiring)
        #expect(!workEnded, "the answer waited for the work")
        _ = write(fds[1], "x", 1)
        #expect(try await Offload.run(budget: .seconds(30)) { 42 } == 42)
    }
}
