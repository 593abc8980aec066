import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// The real `thermos-observer` binary over TCP: connection rules, Host check, headers,
/// methods, downloads, services and shutdown.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ConnectionTests {
    @Test func http10AndConnectionCloseEndTheConnectionKeepAliveDoesNot() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let observer = try #require(LiveObserver(["--root", TestPaths.auroraRoot, "--disable-task-resource-collection"], directory: directory.path))
        defer { observer.stop() }
        // HTTP/1.0 without keep-alive (ab, old proxies): answered, then closed.
        let old = try #require(RawConnection(port: observer.port))
        old.send("GET /j/task_id_count HTTP/1.0\r\n\r\n")
        let (answer, closed) = old.readToEnd()
        old.close()
        #expect(closed, "HTTP/1.0 connection left open")
        #expect(answer.hasPrefix("HTTP/1.0 200") && answer.hasSuffix(#"{"active": 1, "finished": 6, "all": 7}"#), "\(answer)")
        #expect(!answer.lowercased().contains("transfer-encoding: chunked"))
        // HTTP/1.1 with Connection: close (any case): closed after the response.
        let closing = try #require(RawConnection(port: observer.port))
        closing.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: Close\r\n\r\n")
        let (closingAnswer, closingClosed) = closing.readToEnd()
        closing.close()
        #expect(closingClosed && closingAnswer.hasSuffix("OK"), "\(closingAnswer)")
        // HTTP/1.1 keep-alive: two requests on one connection.
        let kept = try #require(RawConnection(port: observer.port, receiveTimeout: 3))
        kept.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(kept.read(until: "\r\n\r\nOK").hasSuffix("\r\n\r\nOK"))
        kept.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(kept.read(until: "\r\n\r\nOK").hasSuffix("\r\n\r\nOK"))
        kept.close()
    }

    @Test func silentAndSlowClientsAreClosed() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let observer = try #require(LiveObserver(
            ["--root", TestPaths.auroraRoot, "--disable-task-resource-collection", "--header-timeout-secs", "1", "--idle-timeout-secs", "1.5"],
            directory: directory.path))
        defer { observer.stop() }
        // Nothing sent: closed by the header timeout (long before the 10 s receive timeout).
        let silent = try #require(RawConnection(port: observer.port))
        let started = monotonicNow()
        #expect(silent.readToEnd().closed)
        #expect(monotonicNow() - started < 8)
        silent.close()
        // Half a request head, trickled: closed too.
        let slow = try #require(RawConnection(port: observer.port))
        slow.send("GET /health HTTP/1.1\r\nHost: local")
        #expect(slow.readToEnd().closed)
        slow.close()
        // Idle after a response: closed by the idle timeout.
        let idle = try #require(RawConnection(port: observer.port))
        idle.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let (text, closed) = idle.readToEnd()
        #expect(text.hasSuffix("OK") && closed)
        idle.close()
    }

    @Test func hostAllowListHeadersAndMethods() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let observer = try #require(LiveObserver(
            ["--root", TestPaths.auroraRoot, "--disable-task-resource-collection", "--allowed-host", "observer.example.com"],
            directory: directory.path))
        defer { observer.stop() }
        func status(_ path: String, _ extra: [String] = []) -> String {
            observer.get(path, ["-o", "/dev/null", "-w", "%{http_code}"] + extra)
        }
        #expect(status("/health") == "200")
        #expect(status("/health", ["-H", "Host: localhost:\(observer.port)"]) == "200")
        #expect(status("/health", ["-H", "Host: Observer.Example.COM"]) == "200")
        #expect(status("/", ["-H", "Host: attacker.example"]) == "403")
        #expect(status("/j/task_ids", ["-H", "Host: 10.1.2.3:1338"]) == "403")
        #expect(status("/health", ["-X", "POST"]) == "405")
        #expect(status("/j/task_ids", ["-X", "DELETE"]) == "405")
        #expect(status("/health", ["-I"]) == "200")
        let headers = observer.get("/", ["-D", "-", "-o", "/dev/null"]).lowercased()
        #expect(headers.contains("x-content-type-options: nosniff"))
        #expect(headers.contains("content-security-policy: default-src 'none'; script-src 'self'"))
        #expect(headers.contains("cache-control: no-store"))
        #expect(headers.contains("x-frame-options: deny"))
        let json = observer.get("/j/task_ids", ["-D", "-", "-o", "/dev/null"]).lowercased()
        #expect(json.contains("x-content-type-options: nosniff") && json.contains("cache-control: no-store"))
        // Hummingbird's request metrics land in the same registry as the observer's (one bootstrap).
        let metrics = observer.get("/metrics")
        #expect(metrics.contains(#"hb_requests{http_route="/health",http_request_method="GET",http_response_status_code="200"}"#))
        #expect(metrics.contains("thermos_observer_scrapes_total 1"))
        let asset = observer.get("/assets/observer.js", ["-D", "-", "-o", "/dev/null"]).lowercased()
        #expect(asset.contains("content-type: text/javascript") && asset.contains("max-age=300"))
    }

    @Test func downloadsStreamUnderAMemoryBoundWithFilenameStar() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        let (sandbox, _) = try builder.addSimpleTask("big", directory: .active, processes: [.init("p", .running)], finalState: nil)
        // A 2 GiB sparse file: costs no disk, would cost 2+ GiB of memory if read whole.
        let fd = open(sandbox + "/huge.bin", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(ftruncate(fd, 2 << 30) == 0)
        close(fd)
        builder.writeFile(sandbox + "/résumé €.txt", Array("accents\n".utf8))
        let observer = try #require(LiveObserver(["--root", directory.path + "/root", "--disable-task-resource-collection"], directory: directory.path))
        defer { observer.stop() }
        let before = observer.peakRSSKiB
        let result = CommandRunner.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", "--max-time", "150", observer.base + "/download/big/huge.bin"], timeout: 170)
        #expect(result.stdout == String(2 << 30), "\(result.stdout) \(result.stderr)")
        let peak = observer.peakRSSKiB
        #expect(peak > 0 && peak < 256 * 1024, "peak RSS \(peak) KiB (before the download: \(before) KiB)")
        // A streamed chunk (over 256 KiB) to an HTTP/1.0 client: unchunked, delimited by the close.
        let old = try #require(RawConnection(port: observer.port, receiveTimeout: 60))
        old.send("GET /filedata/big/huge.bin?offset=0&length=1048576 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let (answer, closed) = old.readToEnd()
        old.close()
        #expect(closed && answer.hasPrefix("HTTP/1.0 200") && answer.hasSuffix(#"\u0000"}"#))
        #expect(!answer.lowercased().contains("transfer-encoding"))
        #expect(answer.contains(#"{"offset": 0, "length": 1048576, "data": ""#))
        let headers = observer.get("/download/big/r%C3%A9sum%C3%A9%20%E2%82%AC.txt", ["-D", "-", "-o", "/dev/null"])
        #expect(headers.contains(#"filename="r_sum_ _.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt"#), "\(headers)")
        #expect(observer.get("/download/big/r%C3%A9sum%C3%A9%20%E2%82%AC.txt") == "accents\n")
    }

    @Test func servicesHonourTheirIntervalsAndSigtermStopsEverything() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let builder = TaskRootBuilder(root: directory.path + "/root")
        builder.makeDirectories(directory.path + "/root/tasks/active")
        let observer = try #require(LiveObserver(
            ["--root", directory.path + "/root", "--polling-interval-secs", "3600", "--task-process-collection-interval-secs", "3600",
             "--task-disk-collection-interval-secs", "3600"],
            directory: directory.path))
        // inotify brings a new task at once, long before the (hour-long) rescan.
        try builder.addSimpleTask("fresh", directory: .active, processes: [.init("p", .running)], finalState: nil)
        #expect(eventually(timeout: 10) { observer.get("/j/task_id_count").contains(#""active": 1"#) })
        let refreshes = Int(observer.get("/vars/observer.refreshes")) ?? -1
        usleep(1_500_000)
        // No rescan without an event: the count stays where inotify left it.
        #expect(Int(observer.get("/vars/observer.refreshes")) == refreshes)
        // The sampler ran once at start (its first round), not every second.
        #expect(observer.get("/vars/observer.sampling.last_round_processes") != "0")
        let started = monotonicNow()
        #expect(observer.stop() == 0)
        #expect(monotonicNow() - started < 10)
    }

    @Test func thermosObserverExecsTheObserverBinary() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let observer = try #require(LiveObserver(
            ["--root", TestPaths.auroraRoot, "--disable-task-resource-collection"], directory: directory.path, binary: "thermos"))
        defer { observer.stop() }
        #expect(observer.get("/health") == "OK")
        let exe = String(decoding: readBytes("/proc/\(observer.command.pid)/cmdline") ?? [], as: UTF8.self)
        #expect(exe.hasPrefix(TestPaths.builtBinary("thermos-observer")), "\(exe)")
    }
}
