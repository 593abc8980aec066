import Glibc

/// Deterministic crash injection for the fault tests: when `THERMOS_CRASH_AT` names a point
/// (e.g. `after-spawn:b`), the runner SIGKILLs itself there, as a power cut or `kill -9` would.
/// Points: `after-waiting:<p>` (WAITING recorded, nothing started), `after-spawn:<p>` (coordinator
/// started, no FORKED yet), `after-forked:<p>` (FORKED recorded, coordinator not released),
/// `after-end:<p>` (the run's end muxed, successor not started), `after-terminal:<state>` (the
/// terminal task state recorded, e.g. `after-terminal:success`; finalization not yet done).
extension CrashPoint {
    static let requested: String? = getenv("THERMOS_CRASH_AT").map { String(cString: $0) }

    /// SIGKILLs this process if `THERMOS_CRASH_AT` is `<self>:<process>`.
    func reach(process: String) {
        guard let requested = Self.requested, requested == "\(rawValue):\(process)" else { return }
        kill(getpid(), SIGKILL)
    }
}
