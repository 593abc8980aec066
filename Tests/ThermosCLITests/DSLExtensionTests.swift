import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// Our schema extensions (env, cwd, probes, depends_on, health_check) in `.thermos`/`.aurora`
/// files, and an `.aurora` job's `health_check_config` rendered as the task's `health_check`,
/// through the real binary and the embedded Python loader.
/// Serialized: its tests block a cooperative thread while the binary runs, and on 2 cores three
/// at once starve the async tests of other suites.
@Suite(.enabled(if: DSLTestPython.hasPython3), .serialized, .timeLimit(.minutes(5)))
struct DSLExtensionTests {
    @Test func aThermosFileCarriesEnvCwdProbesDependsOnAndHealthCheck() {
        let directory = TemporaryDirectory(prefix: "thermos-dslx")
        defer { directory.remove() }
        let config = directory.write("web.thermos", """
            server = Process(name = 'server', cmdline = 'serve', env = {'GREETING': 'hi {{name}}'}, cwd = 'www',
                             readiness = Probe(http = 'http://127.0.0.1:{{thermos.ports[http]}}/', interval_secs = 0.2, expect_body = 'ok'),
                             liveness = Probe(tcp = '127.0.0.1:{{thermos.ports[http]}}', max_consecutive_failures = 2))
            client = Process(name = 'client', cmdline = 'true', depends_on = {'server': 'ready'})
            export(Task(name = 'web', processes = [server, client], health_check = Probe(exec = 'true', interval_secs = 0.5)))
            """)
        let result = thermosDSL(["inspect", "--json", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(canonicalJSON(result.stdout) == canonicalJSON("""
            {"name": "web", "processes": [
              {"name": "server", "cmdline": "serve", "max_failures": 1, "min_duration": 5, "daemon": false, "ephemeral": false,
               "final": false, "env": {"GREETING": "hi server"}, "cwd": "www",
               "readiness": {"http": "http://127.0.0.1:{{thermos.ports[http]}}/", "initial_delay_secs": 0.0, "interval_secs": 0.2,
                             "timeout_secs": 1.0, "max_consecutive_failures": 3, "expect_body": "ok"},
               "liveness": {"tcp": "127.0.0.1:{{thermos.ports[http]}}", "initial_delay_secs": 0.0, "interval_secs": 10.0,
                            "timeout_secs": 1.0, "max_consecutive_failures": 2}},
              {"name": "client", "cmdline": "true", "max_failures": 1, "min_duration": 5, "daemon": false, "ephemeral": false,
               "final": false, "depends_on": {"server": "ready"}}],
             "constraints": [], "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30,
             "health_check": {"exec": "true", "initial_delay_secs": 0.0, "interval_secs": 0.5, "timeout_secs": 1.0,
                              "max_consecutive_failures": 3}}
            """))
        // The pretty form shows them too, and the validator still judges them (a cycle is one line).
        let pretty = thermosDSL(["inspect", config])
        #expect(pretty.status == 0 && pretty.stdout.contains("\"depends_on\"") && pretty.stdout.contains("\"health_check\""))
        let cyclic = directory.write("cycle.thermos", """
            a = Process(name = 'a', cmdline = 'true', depends_on = {'b': 'started'})
            b = Process(name = 'b', cmdline = 'true', depends_on = {'a': 'completed'})
            export(Task(name = 'cycle', processes = [a, b]))
            """)
        let rejected = thermosDSL(["inspect", cyclic])
        #expect(rejected.status == 2 && rejected.stderr.contains("dependency cycle"), "\(rejected.stderr)")
        #expect(rejected.stderr.split(separator: "\n").count == 1)
    }

    static let jobs = """
        serve = Process(name = 'serve', cmdline = 'serve {{thermos.ports[health]}}')
        plain = Process(name = 'plain', cmdline = 'echo hi')
        with_port = Task(name = 'svc', processes = [serve], resources = Resources(cpu = 1, ram = 1*MB, disk = 1*MB))
        without = Task(name = 'svc', processes = [plain], resources = Resources(cpu = 1, ram = 1*MB, disk = 1*MB))
        jobs = [
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'custom', task = with_port,
                  health_check_config = HealthCheckConfig(initial_interval_secs = 2, interval_secs = 0.5, timeout_secs = 0.25,
                                                          max_consecutive_failures = 2,
                                                          health_checker = HealthCheckerConfig(http = HttpHealthChecker(
                                                            endpoint = '/healthz', expected_response = 'fine')))),
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'defaults', task = with_port),
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'noport', task = without),
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'announced', task = without,
                  announce = Announcer(primary_port = 'http', portmap = {'health': 'http'})),
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'shell', task = without,
                  health_check_config = HealthCheckConfig(health_checker = HealthCheckerConfig(
                    shell = ShellHealthChecker(shell_command = 'test -e ok')))),
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'code', task = with_port,
                  health_check_config = HealthCheckConfig(health_checker = HealthCheckerConfig(
                    http = HttpHealthChecker(expected_response_code = 204)))),
          Service(cluster = 'c', role = 'r', environment = 'prod', name = 'badcode', task = with_port,
                  health_check_config = HealthCheckConfig(health_checker = HealthCheckerConfig(
                    http = HttpHealthChecker(expected_response_code = 302)))),
        ]
        """

    /// The `health_check` of job `name` in `inspect --json`, canonical; nil when it has none.
    static func healthCheck(_ config: String, job: String) -> String? {
        let result = thermosDSL(["inspect", "--json", "--job", job, config])
        #expect(result.status == 0, "\(job): \(result.stderr)")
        let script = "import json,sys; h = json.loads(sys.argv[1]).get('health_check'); print(json.dumps(h, sort_keys=True) if h else 'none')"
        let extracted = CommandRunner.run(["python3", "-c", script, result.stdout])
        return extracted.stdout.hasPrefix("none") ? nil : extracted.stdout
    }

    @Test func auroraHealthCheckConfigBecomesTheTaskHealthCheck() {
        let directory = TemporaryDirectory(prefix: "thermos-dslx")
        defer { directory.remove() }
        let config = directory.write("svc.aurora", Self.jobs)
        // Aurora fails after MORE than max_consecutive_failures; ours at that many in a row: + 1.
        #expect(Self.healthCheck(config, job: "custom") == canonicalJSON("""
            {"http": "http://localhost:{{thermos.ports[health]}}/healthz", "initial_delay_secs": 2.0, "interval_secs": 0.5,
             "timeout_secs": 0.25, "max_consecutive_failures": 3, "expect_body": "fine"}
            """))
        // Aurora's defaults: 15 s grace, every 10 s, 1 s timeout, the first failure (0 + 1) fails.
        #expect(Self.healthCheck(config, job: "defaults") == canonicalJSON("""
            {"http": "http://localhost:{{thermos.ports[health]}}/health", "initial_delay_secs": 15.0, "interval_secs": 10.0,
             "timeout_secs": 1.0, "max_consecutive_failures": 1, "expect_body": "ok"}
            """))
        // No health port: Aurora's executor skipped the check.
        #expect(Self.healthCheck(config, job: "noport") == nil)
        // The announcer's portmap aliases health to http: the check goes to the http port.
        #expect(Self.healthCheck(config, job: "announced")?.contains("http://localhost:{{thermos.ports[http]}}/health") == true)
        // A shell checker needs no port.
        #expect(Self.healthCheck(config, job: "shell") == canonicalJSON("""
            {"exec": "test -e ok", "initial_delay_secs": 15.0, "interval_secs": 10.0, "timeout_secs": 1.0, "max_consecutive_failures": 1}
            """))
        // A 2xx expected_response_code: any 2xx passes, no body compared.
        #expect(Self.healthCheck(config, job: "code")?.contains("expect_body") == false)
        let bad = thermosDSL(["inspect", "--job", "badcode", config])
        #expect(bad.status == 2 && bad.stderr.contains("expected_response_code 302"), "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }

    @Test func anAuroraServiceWhoseHealthEndpointStopsAnsweringOkFailsTheTask() async {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        // Answers ok to its first three health checks, then 'sick'; counts the requests it saw. The check
        // starts 2 s in, so that a python3 slow to start on a loaded machine is listening by then.
        let server = fixture.config("""
            import http.server, os, sys, threading
            threading.Timer(30, os._exit, [0]).start()  # without a health check the task ends SUCCESS here
            seen = [0]
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    seen[0] += 1
                    open('requests', 'w').write(str(seen[0]))
                    body = b'ok' if seen[0] <= 3 else b'sick'
                    self.send_response(200); self.end_headers(); self.wfile.write(body)
                def log_message(self, *args): pass
            http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
            """, name: "server.py")
        let config = fixture.config("""
            serve = Process(name = 'serve', cmdline = 'exec python3 \(server) {{thermos.ports[health]}}')
            jobs = [Service(cluster = 'c', role = 'r', environment = 'prod', name = 'svc',
                            task = Task(name = 'svc', processes = [serve], resources = Resources(cpu = 1, ram = 64*MB, disk = 64*MB)),
                            health_check_config = HealthCheckConfig(initial_interval_secs = 2, interval_secs = 0.2,
                                                                    max_consecutive_failures = 1))]
            """, name: "svc.aurora")
        // In the background, awaited: a blocking wait would hold a cooperative thread for seconds.
        let result = fixture.start(
            config, taskID: "aurora-health", ["-P", "health:0"], environment: DSLTestPython.environment(["PATH": "/usr/bin:/bin", "HOME": "/tmp"]))
        #expect(await result.waitAsync() == 1, "\(result.stderr)")
        #expect(fixture.taskStates("aurora-health").last == .failed)
        #expect(result.stderr.contains("Failed health check!"), "\(result.stderr)")
        // It passed three times, then failed twice in a row (Aurora's 1 + 1), and no more.
        #expect(fixture.read("requests") == "5", "\(fixture.read("requests") ?? "no requests")")
    }
}
