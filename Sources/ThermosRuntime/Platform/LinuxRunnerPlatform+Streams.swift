import ThermosPlatform

/// Which coordinator streams were written since the runner last read them, from the inotify
/// watches on them: the runner then reads only those instead of every live stream on every turn
/// (a 200-process task would otherwise re-read 200 files per turn). A stream that could not be
/// watched is reported every time; a queue overflow (events lost) reports "unknown".
struct StreamChanges {
    /// Watch descriptor → stream path.
    private var paths: [Int32: String] = [:]
    private var changed: Set<String> = []
    private var unwatched: Set<String> = []
    private var overflowed = false

    mutating func watching(_ path: String, as watch: Int32) {
        paths[watch] = path
        unwatched.remove(path)
    }

    /// Stops mapping `path`'s watch; returns the watch descriptor it had.
    mutating func forget(_ path: String) -> Int32? {
        unwatched.remove(path)
        changed.remove(path)
        guard let watch = paths.first(where: { $0.value == path })?.key else { return nil }
        paths[watch] = nil
        return watch
    }

    mutating func cannotWatch(_ path: String) {
        unwatched.insert(path)
    }

    /// Folds in what an inotify drain said.
    mutating func absorb(_ drained: (watches: Set<Int32>, overflowed: Bool)) {
        if drained.overflowed { overflowed = true }
        for watch in drained.watches {
            if let path = paths[watch] { changed.insert(path) }
        }
    }

    /// The streams to read now (nil: every stream), and a fresh start.
    mutating func take() -> Set<String>? {
        defer {
            changed = []
            overflowed = false
        }
        return overflowed ? nil : changed.union(unwatched)
    }
}

extension LinuxRunnerPlatform {
    public func takeChangedStreams() -> Set<String>? {
        // Events queued since the last wake-up count too: a write is queued before write() returns.
        streamChanges.absorb(inotify.drainWatches())
        return streamChanges.take()
    }
}
