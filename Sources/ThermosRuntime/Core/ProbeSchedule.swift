public import ThermosConfig

/// What a probe checks for: a process's readiness, its liveness, or the task's health check
/// (an Aurora job's `health_check_config`).
public enum ProbeKind: String, Sendable, Hashable, CaseIterable {
    case readiness, liveness, health
}

/// One attempt of one probe: which process (nil for the task's health check), what kind, the
/// run it belongs to and its number within that run. A result for an attempt that is no
/// longer the current one (cut at its timeout, or its run ended) is dropped.
public struct ProbeAttempt: Sendable, Hashable {
    public var process: String?
    public var kind: ProbeKind
    public var run: Int
    public var number: Int

    public init(process: String?, kind: ProbeKind, run: Int, number: Int) {
        self.process = process
        self.kind = kind
        self.run = run
        self.number = number
    }
}

/// The last result of a probe.
public struct ProbeResult: Sendable, Hashable {
    public var passed: Bool
    /// What was seen (`HTTP 200`, `exit 1`, `connection refused`, `timed out after 1.0 s`).
    public var detail: String
    /// When the attempt ended, seconds since the epoch.
    public var time: Double

    public init(passed: Bool, detail: String, time: Double) {
        self.passed = passed
        self.detail = detail
        self.time = time
    }
}

/// The schedule of one probe over one run, as times only: the first attempt `initial_delay`
/// after the run started, then one every `interval` from the previous attempt's start (an
/// attempt still in flight delays the next), each attempt cut at `timeout`. It counts failures
/// in a row and says when the probe changes something:
/// * readiness: the first pass makes the process ready (`becameReady`);
/// * liveness and health: `max_consecutive_failures` failures in a row (`failedForGood`).
public struct ProbeSchedule: Sendable, Hashable {
    /// What a finished attempt changed.
    public enum Verdict: Sendable, Hashable {
        case none
        case becameReady
        case failedForGood
    }

    public let probe: ProbeConfig
    public let kind: ProbeKind
    public let process: String?
    public let run: Int
    /// When the next attempt is due (while none is in flight).
    public private(set) var nextAt: Double
    /// The attempt in flight and its deadline.
    public private(set) var inFlight: (attempt: ProbeAttempt, deadline: Double)?
    public private(set) var attempts = 0
    public private(set) var consecutiveFailures = 0
    /// Readiness: a pass was seen in this run.
    public private(set) var isReady = false
    public private(set) var last: ProbeResult?
    /// Once `failedForGood`, the schedule stops.
    public private(set) var isStopped = false

    public init(probe: ProbeConfig, kind: ProbeKind, process: String?, run: Int, startedAt: Double) {
        self.probe = probe
        self.kind = kind
        self.process = process
        self.run = run
        nextAt = startedAt + probe.initialDelay
    }

    /// When the schedule wants to be looked at again: the deadline of the attempt in flight,
    /// else the next attempt; nil once stopped.
    public var wakeAt: Double? {
        if isStopped { return nil }
        return inFlight?.deadline ?? nextAt
    }

    /// Starts an attempt if one is due at `now`; returns it.
    public mutating func startIfDue(now: Double) -> ProbeAttempt? {
        guard !isStopped, inFlight == nil, now >= nextAt else { return nil }
        attempts += 1
        let attempt = ProbeAttempt(process: process, kind: kind, run: run, number: attempts)
        inFlight = (attempt, now + probe.timeout)
        // Never fall behind by bursts: the next attempt is one interval after this one began.
        nextAt = max(nextAt + probe.interval, now + probe.interval * 0.5)
        return attempt
    }

    /// The attempt in flight if its deadline passed at `now` (the caller cancels it and
    /// records the failure with `finish`).
    public func expired(now: Double) -> ProbeAttempt? {
        guard let inFlight, now >= inFlight.deadline else { return nil }
        return inFlight.attempt
    }

    /// Folds in the end of `attempt`; a result for another attempt changes nothing.
    public mutating func finish(_ attempt: ProbeAttempt, passed: Bool, detail: String, now: Double) -> Verdict {
        guard let inFlight, inFlight.attempt == attempt, !isStopped else { return .none }
        self.inFlight = nil
        last = ProbeResult(passed: passed, detail: detail, time: now)
        if passed {
            consecutiveFailures = 0
            if kind == .readiness && !isReady {
                isReady = true
                return .becameReady
            }
            return .none
        }
        consecutiveFailures += 1
        if kind != .readiness && consecutiveFailures >= probe.maxConsecutiveFailures {
            isStopped = true
            return .failedForGood
        }
        return .none
    }
}

extension ProbeSchedule {
    public static func == (lhs: ProbeSchedule, rhs: ProbeSchedule) -> Bool {
        lhs.probe == rhs.probe && lhs.kind == rhs.kind && lhs.process == rhs.process && lhs.run == rhs.run
            && lhs.nextAt == rhs.nextAt && lhs.inFlight?.attempt == rhs.inFlight?.attempt
            && lhs.inFlight?.deadline == rhs.inFlight?.deadline && lhs.attempts == rhs.attempts
            && lhs.consecutiveFailures == rhs.consecutiveFailures && lhs.isReady == rhs.isReady && lhs.last == rhs.last
            && lhs.isStopped == rhs.isStopped
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(process)
        hasher.combine(run)
        hasher.combine(attempts)
    }
}
