/// Resource use of one process or the sum over a process tree (the original's `ProcessSample`).
public struct ProcessSample: Sendable, Hashable {
    /// CPU rate in cores (1.0 = one core busy), from utime+stime deltas between samples.
    public var rate: Double
    /// User CPU seconds.
    public var user: Double
    /// System CPU seconds.
    public var system: Double
    /// Resident set size in bytes.
    public var rss: Int64
    /// Virtual memory size in bytes.
    public var vms: Int64
    /// Nice value (nil when unknown).
    public var nice: Int?
    /// psutil-style status name (`running`, `sleeping`, …; nil when unknown).
    public var status: String?
    /// Thread count.
    public var threads: Int

    public init(
        rate: Double = 0, user: Double = 0, system: Double = 0, rss: Int64 = 0, vms: Int64 = 0,
        nice: Int? = nil, status: String? = nil, threads: Int = 0
    ) {
        self.rate = rate
        self.user = user
        self.system = system
        self.rss = rss
        self.vms = vms
        self.nice = nice
        self.status = status
        self.threads = threads
    }

    /// All zeros, no nice and no status (`ProcessSample.empty()`).
    public static let empty = ProcessSample()

    /// Sums the numbers; keeps `nice`/`status` of the right operand unless it has none.
    public static func + (left: ProcessSample, right: ProcessSample) -> ProcessSample {
        ProcessSample(
            rate: left.rate + right.rate, user: left.user + right.user, system: left.system + right.system,
            rss: left.rss + right.rss, vms: left.vms + right.vms, nice: right.nice ?? left.nice,
            status: right.status ?? left.status, threads: left.threads + right.threads)
    }
}

/// The resource use of a whole task at one time: processes summed, process count, disk bytes.
public struct TaskResourceSample: Sendable, Hashable {
    /// Seconds since the epoch.
    public var timestamp: Double
    /// Number of processes sampled (roots and descendants).
    public var processCount: Int
    /// The sum over every process of the task.
    public var process: ProcessSample
    /// Bytes used by the sandbox (last completed measurement; 0 before the first one).
    public var disk: Int64
    /// Per process name: the sample of its process tree and the number of pids in it.
    public var byProcess: [String: ProcessTreeSample]

    public init(
        timestamp: Double, processCount: Int = 0, process: ProcessSample = .empty, disk: Int64 = 0,
        byProcess: [String: ProcessTreeSample] = [:]
    ) {
        self.timestamp = timestamp
        self.processCount = processCount
        self.process = process
        self.disk = disk
        self.byProcess = byProcess
    }
}

/// One process tree's sample and its size.
public struct ProcessTreeSample: Sendable, Hashable {
    public var sample: ProcessSample
    public var processCount: Int

    public init(sample: ProcessSample, processCount: Int) {
        self.sample = sample
        self.processCount = processCount
    }
}
