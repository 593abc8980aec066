import Glibc
import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// The edges of DSL loading: `--job` where there are no jobs, `{{&x}}` literals from
/// pystachio to the running task and through `convert`, and a config that never finishes.
@Suite(.enabled(if: DSLTestPython.hasPython3), .timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct DSLBoundaryTests {
    @Test func jobIsAnErrorForFilesWithoutJobs() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let task = "export(Task(name = 't', processes = [Process(name = 'p', cmdline = 'true')]))\n"
        let files = [
            fixture.config(task, name: "t.thermos"),
            fixture.config(#"{"name": "t", "processes": [{"name": "p", "cmdline": "true"}]}"#, name: "t.json"),
            fixture.config("name: t\nprocesses: [{name: p, cmdline: 'true'}]\n", name: "t.yaml"),
        ]
        for file in files {
            let expected = "\(file): --job c/r/e/t: only an .aurora file has jobs; this file holds tasks (choose one with --task)\n"
            for command in ["inspect", "convert"] {
                let result = thermosDSL([command, "--job", "c/r/e/t", file])
                #expect(result.status == 2 && result.stderr == expected, "\(command) \(file): \(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
            let run = fixture.run(file, taskID: "job-\(file.split(separator: ".").last ?? "")", ["--job", "c/r/e/t"],
                                  environment: DSLTestPython.environment())
            #expect(run.status == 2 && run.stderr == expected, "run \(file): \(run.stderr)")
        }
        #expect(!fixture.taskFileExists("job-json", .finished), "nothing ran")
        // An .aurora file that exports tasks instead of defining jobs: the loader refuses --job.
        let exporting = fixture.config(task, name: "tasks.aurora")
        let result = thermosDSL(["inspect", "--job", "t", exporting])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr == "\(exporting): --job t: this file exports tasks, not jobs; choose a task with --task\n")
        #expect(thermosDSL(["inspect", exporting]).status == 0)
    }

    static let literals = """
        p = Process(name = 'p', cmdline = 'echo {{&x}} {{y}} {{x}} > out')
        export(Task(name = 'lit', processes = [p]).bind(y = '{{&thermos.task_id}}'))
        """

    @Test func literalsSurviveFromPystachioToTheTaskAndThroughConvert() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.literals, name: "lit.thermos")
        // pystachio renders {{&x}} as the text {{x}}: inspect shows what the task runs.
        let inspected = thermosDSL(["inspect", "--json", "-E", "x=bound", config])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains(#""cmdline": "echo {{x}} {{thermos.task_id}} bound > out""#), "\(inspected.stdout)")
        // convert keeps the escape, so that its output reads back as the same task.
        let converted = thermosDSL(["convert", "-E", "x=bound", config])
        #expect(converted.stdout.contains(#""cmdline": "echo {{&x}} {{&thermos.task_id}} bound > out""#), "\(converted.stdout)")
        let yaml = thermosDSL(["convert", "--format", "yaml", "-E", "x=bound", config])
        #expect(yaml.status == 0, "\(yaml.stderr)")

        let direct = thermosDSL(["run", "--root", fixture.root, "--sandbox", fixture.sandbox, "--task-id", "lit", "-E", "x=bound", config])
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(fixture.read("out") == "{{x}} {{thermos.task_id}} bound\n")

        let viaYAML = RunnerFixture()
        defer { viaYAML.remove() }
        let result = viaYAML.run(viaYAML.config(yaml.stdout, name: "lit.yaml"), taskID: "lit-yaml")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(viaYAML.read("out") == "{{x}} {{thermos.task_id}} bound\n")
    }

    @Test func textOutsideASCIIComesThroughTheLoader() {
        // The loader's JSON was ASCII-escaped, and libyaml refuses the surrogate pair of an emoji
        // ("gave no result"); it now writes UTF-8.
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("u.thermos", "export(Task(name = 't', processes = [Process(name = 'p', cmdline = 'echo é 😀')]))\n")
        let result = thermosDSL(["convert", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(canonicalJSON(result.stdout) == canonicalJSON("""
            {"name": "t", "processes": [{"name": "p", "cmdline": "echo é 😀", "max_failures": 1, "min_duration": 5,
              "daemon": false, "ephemeral": false, "final": false}],
             "constraints": [], "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
            """))
    }

    @Test func auroraJobDefaultsAreAurorasAndATaskCanReadThem() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        // Defaults from Aurora's job schema (docs/reference/configuration.md): expected_response_code 0,
        // graceful_shutdown_wait_secs and shutdown_wait_secs 5, instances 1, watch_secs 45; cron_schedule
        // has no default (Empty), and Container takes mesos as well as docker.
        let config = directory.write("facts.aurora", """
            fields = ['health_check_config.health_checker.http.expected_response_code', 'lifecycle.http.graceful_shutdown_wait_secs',
                      'lifecycle.http.shutdown_wait_secs', 'instances', 'cron_collision_policy', 'update_config.watch_secs',
                      'announce.primary_port']
            p = Process(name = 'p', cmdline = 'echo ' + ' '.join('{{%s}}' % field for field in fields))
            schedule = Process(name = 'schedule', cmdline = 'echo {{cron_schedule}}')
            jobs = [Job(cluster = 'c', role = 'r', environment = 'e', name = 'n', task = Task(name = 't', processes = [p]),
                        announce = Announcer(), container = Container(mesos = Mesos(image = DockerImage(name = 'd', tag = '1')))),
                    Job(cluster = 'c', role = 'r', environment = 'e', name = 'cron', task = Task(name = 't', processes = [schedule]))]
            """)
        let result = thermosDSL(["inspect", "--json", "--job", "n", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""cmdline": "echo 0 5 5 1 KILL_EXISTING 45 http""#), "\(result.stdout)")
        let unset = thermosDSL(["inspect", "--job", "cron", config])
        #expect(unset.status == 2 && unset.stderr.contains("Unexpected unbound refs: {{cron_schedule}}"), "\(unset.stderr)")
    }

    /// Pids of live (non-zombie) processes whose command line holds `marker`.
    static func processes(holding marker: String) -> [String] {
        guard let proc = opendir("/proc") else { return [] }
        defer { closedir(proc) }
        var found: [String] = []
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.allSatisfy(\.isNumber), let cmdline = readBytes("/proc/\(name)/cmdline"),
                String(decoding: cmdline.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(marker),
                let stat = readBytes("/proc/\(name)/stat")
            else { continue }
            // The state follows the parenthesised command name: "pid (comm) S ...".
            let text = String(decoding: stat, as: UTF8.self)
            if let close = text.lastIndex(of: ")"), !text[close...].hasPrefix(") Z") { found.append(name) }
        }
        return found
    }

    static func loopingConfig(marker: String) -> String {
        """
        import subprocess, sys
        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '\(marker)'],
                         stdout = subprocess.DEVNULL, stderr = subprocess.DEVNULL)
        while True:
          pass
        """
    }

    static func expectGone(_ marker: String, sourceLocation: SourceLocation = #_sourceLocation) {
        var left = processes(holding: marker)
        for _ in 0..<50 where !left.isEmpty {
            usleep(100_000)
            left = processes(holding: marker)
        }
        #expect(left.isEmpty, "still running: \(left)", sourceLocation: sourceLocation)
    }

    @Test func aConfigThatNeverFinishesIsCutAtTheTimeLimitWithItsProcessGroup() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let marker = "thermos-dsl-loop-\(getpid())-\(Int.random(in: 0...999_999_999))"
        let config = directory.write("loop.aurora", Self.loopingConfig(marker: marker))
        let result = thermosDSL(["inspect", config], environment: ["THERMOS_DSL_TIMEOUT": "2"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr == "\(config): the config did not finish loading within 2 s (an endless loop?); its Python was killed with the processes it started; allow longer with THERMOS_DSL_TIMEOUT=<seconds>\n")
        Self.expectGone(marker)

        let invalid = thermosDSL(["inspect", config], environment: ["THERMOS_DSL_TIMEOUT": "soon"])
        #expect(invalid.status == 2)
        #expect(invalid.stderr == "THERMOS_DSL_TIMEOUT=soon: expected a number of seconds above 0\n")
    }

    @Test func stoppingThermosWhileAConfigLoadsKillsTheLoader() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let marker = "thermos-dsl-stop-\(getpid())-\(Int.random(in: 0...999_999_999))"
        let config = directory.write("loop.thermos", Self.loopingConfig(marker: marker))
        // The loader runs in a process group of its own, so thermos forwards SIGTERM (and ^C) as a kill.
        let script = """
            "$1" inspect "$2" & pid=$!
            sleep 2
            kill -TERM $pid
            wait $pid
            echo "exit $?"
            """
        var environment = DSLTestPython.environment()
        environment["PATH"] = "/usr/bin:/bin"
        let result = CommandRunner.run(["sh", "-c", script, "sh", TestPaths.builtBinary("thermos"), config], environment: environment, timeout: 60)
        #expect(result.stdout == "exit 143\n", "\(result.stdout) \(result.stderr)")
        Self.expectGone(marker)
    }
}
