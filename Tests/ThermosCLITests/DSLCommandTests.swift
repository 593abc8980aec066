import Testing
import ThermosCheckpoint
import ThermosTestSupport

/// `.thermos` and `.aurora` configs through the real binary and the embedded Python loader:
/// every expected task is written here by hand and compared as canonical JSON (Python's json).
@Suite(.enabled(if: DSLTestPython.hasPython3), .timeLimit(.minutes(5)))  // from scheduling: a loaded full run can hold both cooperative threads for minutes
struct DSLCommandTests {
    static let constructs = """
        import getpass
        class Profile(Struct):
          greeting = Default(String, 'hello')

        base = Process(max_failures = 3, min_duration = 1)
        setup = base(name = 'setup', cmdline = 'echo {{profile.greeting}} > greeting')
        workers = [base(name = 'worker%d' % i, cmdline = 'echo %d {{name}}' % i) for i in range(2)]
        logged = Process(name = 'logged', cmdline = 'echo ' + python_options('v', level = 3),
                         logger = Logger(destination = LoggerDestination('both'), mode = LoggerMode('rotate'),
                                         rotate = RotatePolicy(log_size = 5*MB, backups = 2)))
        whoami = getpass.getuser()
        first = SequentialTask(name = 'first', processes = [setup] + workers,
                               resources = Resources(cpu = 1, ram = 1*GB, disk = 1*GB))
        second = Task(name = 'second', processes = [logged], constraints = order('logged'),
                      resources = Resources(cpu = 0.5, ram = 512*MB, disk = 2*GB), finalization_wait = 10)
        export(concat_tasks(first, second, name = 'combined').bind(profile = Profile(greeting = 'hi')))
        export(combine_tasks(first, second, name = 'parallel', max_concurrency = 2))
        export(SimpleTask('simple', 'echo ' + java_options('Xmx1g', {'cp': 'a.jar'})))
        export({'name': 'from_dict', 'processes': [{'name': 'd', 'cmdline': 'echo dict'}]})
        """

    static let processes = """
        {"name": "setup", "cmdline": "echo hi > greeting", "max_failures": 3, "min_duration": 1, "daemon": false, "ephemeral": false, "final": false},
        {"name": "worker0", "cmdline": "echo 0 worker0", "max_failures": 3, "min_duration": 1, "daemon": false, "ephemeral": false, "final": false},
        {"name": "worker1", "cmdline": "echo 1 worker1", "max_failures": 3, "min_duration": 1, "daemon": false, "ephemeral": false, "final": false},
        {"name": "logged", "cmdline": "echo -v --level 3", "max_failures": 1, "min_duration": 5, "daemon": false, "ephemeral": false, "final": false,
         "logger": {"destination": "both", "mode": "rotate", "rotate": {"log_size": 5242880, "backups": 2}}}
        """

    @Test func everyThermosConstructRendersToTheExpectedTask() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("constructs.thermos", Self.constructs)

        let combined = thermosDSL(["inspect", "--json", "--task", "combined", config])
        #expect(combined.status == 0, "\(combined.stderr)")
        #expect(combined.stdout.split(separator: "\n").count == 1)
        #expect(canonicalJSON(combined.stdout) == canonicalJSON("""
            {"name": "combined", "processes": [\(Self.processes)],
             "constraints": [{"order": ["setup", "worker0", "worker1"]}, {"order": ["logged"]},
                             {"order": ["setup", "logged"]}, {"order": ["worker0", "logged"]}, {"order": ["worker1", "logged"]}],
             "resources": {"cpu": 1.0, "ram": 1073741824, "disk": 2147483648, "gpu": 0},
             "max_failures": 1, "max_concurrency": 0, "finalization_wait": 40}
            """))

        let parallel = thermosDSL(["inspect", "--json", "--task", "parallel", "-E", "profile.greeting=hi", config])
        #expect(parallel.status == 0, "\(parallel.stderr)")
        #expect(canonicalJSON(parallel.stdout) == canonicalJSON("""
            {"name": "parallel", "processes": [\(Self.processes)],
             "constraints": [{"order": ["setup", "worker0", "worker1"]}, {"order": ["logged"]}],
             "resources": {"cpu": 1.5, "ram": 1610612736, "disk": 3221225472, "gpu": 0},
             "max_failures": 1, "max_concurrency": 2, "finalization_wait": 30}
            """))

        let simple = thermosDSL(["convert", "--task", "simple", config])
        #expect(simple.status == 0, "\(simple.stderr)")
        #expect(canonicalJSON(simple.stdout) == canonicalJSON("""
            {"name": "simple", "processes": [{"name": "simple", "cmdline": "echo -Xmx1g -cp a.jar", "max_failures": 1,
              "min_duration": 5, "daemon": false, "ephemeral": false, "final": false}],
             "constraints": [], "resources": {"cpu": 1.0, "ram": 1073741824, "disk": 1073741824, "gpu": 0},
             "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
            """))

        let dict = thermosDSL(["inspect", "--json", "--task", "from_dict", config])
        #expect(canonicalJSON(dict.stdout) == canonicalJSON("""
            {"name": "from_dict", "processes": [{"name": "d", "cmdline": "echo dict", "max_failures": 1,
              "min_duration": 5, "daemon": false, "ephemeral": false, "final": false}],
             "constraints": [], "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
            """))

        // Several tasks and no --task: the original's message, one line, exit 2.
        let several = thermosDSL(["inspect", config])
        #expect(several.status == 2)
        #expect(several.stderr == "\(config): Multiple tasks in config but no task name specified!\n")
    }

    static let jobs = """
        import os
        class Profile(Struct):
          version = Default(String, 'v1')
        install = Process(name = 'install', cmdline = 'echo {{profile.version}} {{role}}/{{environment}}/{{cluster}} > installed')
        serve = Process(name = 'serve', cmdline = 'echo instance {{mesos.instance}} port {{thermos.ports[aurora]}} user {{thermos.user}}')
        task = SequentialTask(processes = [install, serve], resources = Resources(cpu = 0.25, ram = 64*MB, disk = 64*MB))
        jobs = [
          Service(cluster = 'devcluster', role = 'www-data', environment = 'prod', name = 'hello', task = task,
                  announce = Announcer(primary_port = 'http')).bind(profile = Profile()),
          Job(cluster = 'devcluster', role = 'www-data', environment = 'staging', name = 'hello', task = task,
              health_check_config = HealthCheckConfig(initial_interval_secs = 5),
              update_config = UpdateConfig(batch_size = 2)).bind(profile = Profile(version = 'v2')),
          Job(cluster = 'devcluster', role = 'batch', environment = 'prod', name = 'nightly',
              task = Tasks.simple('nightly', 'echo {{role}} ' + os.environ.get('NIGHTLY_FLAVOUR', 'plain')),
              cron_schedule = '0 3 * * *', container = Mesos(image = DockerImage(name = 'debian', tag = '12')),
              sla_policy = CountSlaPolicy(count = 1, duration_secs = 60), tier = 'preemptible'),
        ]
        """

    static func sequentialTask(version: String, environment: String, port: String) -> String {
        """
        {"name": "install", "processes": [
          {"name": "install", "cmdline": "echo \(version) www-data/\(environment)/devcluster > installed", "max_failures": 1,
           "min_duration": 5, "daemon": false, "ephemeral": false, "final": false},
          {"name": "serve", "cmdline": "echo instance {{mesos.instance}} port {{thermos.ports[\(port)]}} user www-data",
           "max_failures": 1, "min_duration": 5, "daemon": false, "ephemeral": false, "final": false}],
         "constraints": [{"order": ["install", "serve"]}],
         "resources": {"cpu": 0.25, "ram": 67108864, "disk": 67108864, "gpu": 0},
         "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
        """
    }

    @Test func auroraJobsAreSelectedByKeyWithStandardBindingsAndPortAliases() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("hello.aurora", Self.jobs)

        let unselected = thermosDSL(["inspect", config])
        #expect(unselected.status == 2)
        #expect(unselected.stderr.split(separator: "\n").count == 1)
        for key in ["devcluster/www-data/prod/hello", "devcluster/www-data/staging/hello", "devcluster/batch/prod/nightly"] {
            #expect(unselected.stderr.contains(key), "\(unselected.stderr)")
        }
        let ambiguous = thermosDSL(["inspect", "--job", "hello", config])
        #expect(ambiguous.status == 2 && ambiguous.stderr.contains("not unique"), "\(ambiguous.stderr)")
        let missing = thermosDSL(["inspect", "--job", "devcluster/www-data/prod/nope", config])
        #expect(missing.status == 2 && missing.stderr.contains("no job devcluster/www-data/prod/nope"), "\(missing.stderr)")

        // The announcer's default portmap {'aurora': '{{primary_port}}'} makes aurora an alias of http.
        let prod = thermosDSL(["inspect", "--json", "--job", "devcluster/www-data/prod/hello", config])
        #expect(prod.status == 0, "\(prod.stderr)")
        #expect(canonicalJSON(prod.stdout) == canonicalJSON(Self.sequentialTask(version: "v1", environment: "prod", port: "http")))
        // No announcer: no alias.
        let staging = thermosDSL(["convert", "--job", "devcluster/www-data/staging/hello", config])
        #expect(canonicalJSON(staging.stdout) == canonicalJSON(Self.sequentialTask(version: "v2", environment: "staging", port: "aurora")))
        // A bare name that is unique; {{role}} bound from the job.
        let nightly = thermosDSL(["inspect", "--json", "--job", "nightly", config], environment: ["NIGHTLY_FLAVOUR": "spicy"])
        #expect(canonicalJSON(nightly.stdout) == canonicalJSON("""
            {"name": "nightly", "processes": [{"name": "nightly", "cmdline": "echo batch spicy", "max_failures": 1,
              "min_duration": 5, "daemon": false, "ephemeral": false, "final": false}],
             "constraints": [], "resources": {"cpu": 1.0, "ram": 1073741824, "disk": 1073741824, "gpu": 0},
             "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
            """))
        // -E binds {{mesos.instance}} for inspect, and wins over the job's own .bind().
        let bound = thermosDSL(
            ["inspect", "--json", "--job", "devcluster/www-data/prod/hello", "-E", "mesos.instance=7", "-E", "profile.version=v9", config])
        #expect(bound.status == 0, "\(bound.stderr)")
        #expect(canonicalJSON(bound.stdout) == canonicalJSON(
            Self.sequentialTask(version: "v9", environment: "prod", port: "http").replacing("{{mesos.instance}}", with: "7")))
    }

    @Test func anAuroraSequentialTaskRunsToSuccessWithMesosInstanceBound() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.jobs, name: "hello.aurora")
        let result = thermosDSL(
            ["run", "--root", fixture.root, "--sandbox", fixture.sandbox, "--task-id", "aurora-seq",
             "--job", "devcluster/www-data/prod/hello", "--instance", "3", "-P", "http:8080", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.taskStates("aurora-seq").last == .success)
        #expect(fixture.read("installed") == "v1 www-data/prod/devcluster\n")
        #expect(fixture.read(".logs/serve/0/stdout") == "instance 3 port 8080 user www-data\n")
        // install ran before serve (the SequentialTask's order).
        let install = fixture.runs("aurora-seq", "install").last
        let serve = fixture.runs("aurora-seq", "serve").last
        #expect((install?.stopTime ?? .infinity) <= (serve?.startTime ?? 0))
    }

    @Test func convertedYAMLRunsToTheSameResultAsTheDSLFile() {
        let fixture = RunnerFixture()
        defer { fixture.remove() }
        let config = fixture.config(Self.jobs, name: "hello.aurora")
        let converted = thermosDSL(["convert", "--format", "yaml", "--job", "devcluster/www-data/prod/hello", config])
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(converted.stdout.contains("name: \"install\""), "\(converted.stdout)")
        let yaml = fixture.config(converted.stdout, name: "converted.yaml")
        let viaYAML = fixture.run(yaml, taskID: "via-yaml", ["--instance", "3", "-P", "http:8080"])
        #expect(viaYAML.status == 0, "\(viaYAML.stderr)")
        // The DSL file itself, run the same way in a fixture of its own, gives the same result.
        let direct = RunnerFixture()
        defer { direct.remove() }
        let viaDSL = thermosDSL(
            ["run", "--root", direct.root, "--sandbox", direct.sandbox, "--task-id", "via-dsl", "--job", "devcluster/www-data/prod/hello",
             "--instance", "3", "-P", "http:8080", direct.config(Self.jobs, name: "hello.aurora")])
        #expect(viaDSL.status == 0, "\(viaDSL.stderr)")
        for file in [".logs/install/0/stdout", ".logs/serve/0/stdout", "installed"] {
            #expect(fixture.read(file) != nil && fixture.read(file) == direct.read(file), "\(file)")
        }
        #expect(fixture.read(".logs/serve/0/stdout") == "instance 3 port 8080 user www-data\n")
        #expect(fixture.taskStates("via-yaml") == direct.taskStates("via-dsl"))
        // The YAML is the same task as the DSL file.
        let fromYAML = thermosDSL(["inspect", "--json", yaml])
        let fromDSL = thermosDSL(["inspect", "--json", "--job", "devcluster/www-data/prod/hello", config])
        #expect(fromYAML.status == 0 && canonicalJSON(fromYAML.stdout) == canonicalJSON(fromDSL.stdout))
    }

    @Test func mergedProcessesKeepFirstSeenOrderWhateverTheHashSeed() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        let config = directory.write("constructs.thermos", Self.constructs)
        let outputs = ["0", "1", "2", "3", "random"].map { seed in
            thermosDSL(["convert", "--task", "parallel", "-E", "profile.greeting=hi", config], environment: ["PYTHONHASHSEED": seed]).stdout
        }
        #expect(!outputs[0].isEmpty && outputs.allSatisfy { $0 == outputs[0] })
        #expect(outputs[0].contains(#""name": "setup""#))
        let names = outputs[0].split(separator: "\"").filter { ["setup", "worker0", "worker1", "logged"].contains(String($0)) }
        #expect(names.prefix(4) == ["setup", "worker0", "worker1", "logged"])
    }

    @Test func includeIsRelativeToTheIncludingFileAndPrintsGoToStderr() {
        let directory = TemporaryDirectory(prefix: "thermos-dsl")
        defer { directory.remove() }
        directory.write("conf/lib/math.thermos", """
            include('constants.thermos')
            bc = Process(cmdline = "echo 'scale={{precision}};{{command}}' | bc -l")
            pi = bc(name = "pi").bind(command = PI_COMMAND)
            """)
        directory.write("conf/lib/constants.thermos", "PI_COMMAND = '4*a(1)'\n")
        let config = directory.write("conf/pi.thermos", """
            include('lib/math.thermos')
            print('configuring pi')
            export(Task(name = "compute_pi", processes = [pi]))
            """)
        // Run from another directory: include() follows the including file, not the cwd.
        let result = thermosDSL(["inspect", "--json", "-E", "precision=5", config], directory: "/")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "configuring pi\n")
        #expect(canonicalJSON(result.stdout) == canonicalJSON("""
            {"name": "compute_pi", "processes": [{"name": "pi", "cmdline": "echo 'scale=5;4*a(1)' | bc -l", "max_failures": 1,
              "min_duration": 5, "daemon": false, "ephemeral": false, "final": false}],
             "constraints": [], "max_failures": 1, "max_concurrency": 0, "finalization_wait": 30}
            """))
    }
}
