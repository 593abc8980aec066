public import ThermosConfig

/// What the shell needs to run one probe attempt (`RunnerAction.startProbe`); it answers with
/// `RunnerObservation.probeFinished` unless the core cancels the attempt first.
public struct ProbeRequest: Sendable, Hashable {
    public var attempt: ProbeAttempt
    public var check: ProbeConfig.Check
    /// HTTP: the body (trimmed) must equal this.
    public var expectBody: String?
    /// Seconds the attempt may take (the core also cuts it at this deadline).
    public var timeout: Double
    /// Exec: the sandbox, the process's `cwd` inside it, its `env`, and the user to run as
    /// (nil: as the runner).
    public var sandbox: String
    public var cwd: String?
    public var environment: [String: String]
    public var user: String?

    public init(
        attempt: ProbeAttempt, check: ProbeConfig.Check, expectBody: String?, timeout: Double, sandbox: String,
        cwd: String?, environment: [String: String], user: String?
    ) {
        self.attempt = attempt
        self.check = check
        self.expectBody = expectBody
        self.timeout = timeout
        self.sandbox = sandbox
        self.cwd = cwd
        self.environment = environment
        self.user = user
    }
}

/// The probe results the runner publishes (`checkpoints/<id>/probes.json`, rewritten
/// atomically) for `thermos status` and the observer: they are not part of Aurora's checkpoint.
public struct ProbeReport: Sendable, Hashable {
    /// One probe of one process (or the task's health check when `process` is nil).
    public struct Entry: Sendable, Hashable {
        public var process: String?
        public var kind: ProbeKind
        public var run: Int
        public var consecutiveFailures: Int
        public var last: ProbeResult?

        public init(process: String?, kind: ProbeKind, run: Int, consecutiveFailures: Int, last: ProbeResult?) {
            self.process = process
            self.kind = kind
            self.run = run
            self.consecutiveFailures = consecutiveFailures
            self.last = last
        }
    }

    /// Processes whose current run passed its readiness probe.
    public var ready: Set<String>
    /// Processes with a readiness probe (the others have no `ready`).
    public var withReadiness: Set<String>
    public var entries: [Entry]

    public init(ready: Set<String> = [], withReadiness: Set<String> = [], entries: [Entry] = []) {
        self.ready = ready
        self.withReadiness = withReadiness
        self.entries = entries
    }
}
