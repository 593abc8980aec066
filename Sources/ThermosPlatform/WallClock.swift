import Glibc

/// The wall clock Thermos records times with (seconds since the epoch, as a Double).
/// Decisions take time as a parameter; only the edges read a clock.
public protocol WallClock: Sendable {
    func now() -> Double
}

/// `CLOCK_REALTIME`.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
