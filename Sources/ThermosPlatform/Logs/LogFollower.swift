import Glibc

/// Follows the latest run's stdout and stderr of some processes of a task
/// (`<log_dir>/<process>/<run>/stdout|stderr`), line by line, moving on to each new run as it
/// appears: the reader behind `thermos logs [-f]` and the runner's console.
///
/// Everything under the log directory is the task's and is treated as hostile: the path from
/// the trusted `anchor` (the sandbox, when the log directory is inside it) down to each file is
/// opened one component at a time with `ConfinedOpen` (no symlink followed, FIFOs and devices
/// never opened, regular files checked on the descriptor), directories are watched through their
/// open descriptors, reads are bounded (`Options.chunkBytes` per file per round) and a partial
/// line is kept only up to `Options.maxLineBytes`. Waiting is inotify (`descriptor`), never
/// polling. Process names come from the caller (the task), never from directory listings.
///
/// Single-threaded: one thread owns an instance.
public final class LogFollower {
    /// Limits and where to start.
    public struct Options: Sendable {
        /// A line longer than this is passed on in pieces of this size.
        public var maxLineBytes = 64 * 1024
        /// Bytes read from one file before the other files get their turn.
        public var chunkBytes = 64 * 1024
        /// Start the files present when following begins at their last N lines (nil: at their start).
        public var startAtLastLines: Int?

        public init(maxLineBytes: Int = 64 * 1024, chunkBytes: Int = 64 * 1024, startAtLastLines: Int? = nil) {
            self.maxLineBytes = max(1, maxLineBytes)
            self.chunkBytes = max(1, chunkBytes)
            self.startAtLastLines = startAtLastLines
        }
    }

    /// An open directory being watched.
    struct WatchedDirectory {
        var descriptor: Int32
        var id: ConfinedOpen.FileID
        var watch: Int32?
    }

    /// What is followed of one process.
    struct Followed {
        var name: String
        var directory: WatchedDirectory?
        var run: Int?
        var runDirectory: WatchedDirectory?
        var files: [FollowedFile?] = [nil, nil]
    }

    /// What a watch descriptor belongs to.
    enum WatchOwner {
        case ancestor
        case logDirectory
        case processDirectory(Int)
        case runDirectory(Int)
    }

    public let options: Options
    private let inotify: Inotify
    /// The trusted directory the walk starts from, and the components from it to the log directory.
    private let anchor: Int32
    private let components: [String]
    private let logPath: String
    private var logDirectory: WatchedDirectory?
    private var ancestorWatch: Int32?
    private var followed: [Followed]
    private var owners: [Int32: WatchOwner] = [:]
    private var buffer: [UInt8]
    private var starting = true
    private var reported: Set<String> = []
    private let report: (String) -> Void

    /// The inotify descriptor: readable when something changed (wait on it, then `update`).
    public var descriptor: Int32 { inotify.descriptor }

    /// - Parameters:
    ///   - logDirectory: the task's log directory (header `log_dir`).
    ///   - anchor: a trusted directory containing it (the sandbox); the rest of the path is
    ///     walked without following links. Without one (or when the log directory is not inside
    ///     it), the log directory itself is the anchor.
    ///   - processes: the processes to follow, in display order.
    ///   - report: told once per problem (a refused file, a directory that cannot be watched).
    /// - Throws: when the anchor cannot be opened or inotify cannot be set up.
    public init(
        logDirectory: String, anchor: String?, processes: [String], options: Options = Options(),
        report: @escaping (String) -> Void = { _ in }
    ) throws(PlatformError) {
        self.options = options
        self.report = report
        logPath = logDirectory
        let trimmed = { (path: String) in path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path }
        var anchorPath = trimmed(logDirectory)
        var rest: [String] = []
        if let anchor {
            let base = trimmed(anchor)
            let prefix = base == "/" ? "/" : base + "/"
            if logDirectory.hasPrefix(prefix) {
                let parts = logDirectory.dropFirst(prefix.count).split(separator: "/").map(String.init).filter { $0 != "." }
                if !parts.contains("..") {
                    anchorPath = base
                    rest = parts
                }
            }
        }
        components = rest
        let fd = open(anchorPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open the log directory", path: anchorPath) }
        self.anchor = fd
        do {
            inotify = try Inotify()
        } catch {
            close(fd)
            throw error
        }
        followed = processes.map { Followed(name: $0) }
        buffer = [UInt8](repeating: 0, count: options.chunkBytes)
        refreshAll(emit: { _ in })
        starting = false
    }

    deinit {
        for index in followed.indices { closeProcess(index, emit: { _ in }, drain: false) }
        if let logDirectory { close(logDirectory.descriptor) }
        close(anchor)
    }

    // MARK: - Reading

    /// Takes in what changed (new runs, replaced files) and emits every complete line written
    /// since the last call, the files taking turns in chunks. Stops early, between rounds, when
    /// `shouldContinue` says so.
    /// - Returns: whether anything was read.
    @discardableResult
    public func update(shouldContinue: () -> Bool = { true }, emit: (LogLine) -> Void) -> Bool {
        handleEvents(emit: emit)
        var any = false
        while true {
            var round = 0
            for index in followed.indices {
                for stream in LogStream.allCases {
                    round += read(index, stream, limit: options.chunkBytes, emit: emit)
                }
            }
            guard round > 0 else { return any }
            any = true
            guard shouldContinue() else { return any }
        }
    }

    /// Emits everything left: picks up the latest runs, reads every file to the size it has now,
    /// and emits the partial last lines. The follower stays usable.
    public func finish(emit: (LogLine) -> Void) {
        handleEvents(emit: emit)
        refreshAll(emit: emit)
        for index in followed.indices {
            for stream in LogStream.allCases {
                drain(index, stream, emit: emit)
                flush(index, stream, emit: emit)
            }
        }
    }

    /// Blocks until something changed or `timeout` seconds pass (nil: no timeout).
    @discardableResult
    public func wait(timeout: Double? = nil) -> Bool {
        var poller = pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map { Int32(max(0, min($0, 3600)) * 1000) } ?? -1
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    private func read(_ index: Int, _ stream: LogStream, limit: Int, emit: (LogLine) -> Void) -> Int {
        guard var file = followed[index].files[stream.rawValue], let run = followed[index].run else { return 0 }
        let name = followed[index].name
        let count = file.read(limit: limit, buffer: &buffer, maxLineBytes: options.maxLineBytes) {
            emit(LogLine(process: name, run: run, stream: stream, bytes: $0))
        }
        followed[index].files[stream.rawValue] = file
        return count
    }

    /// Reads a file up to the size it has now (a writer that keeps going cannot hold us here).
    private func drain(_ index: Int, _ stream: LogStream, emit: (LogLine) -> Void) {
        guard let file = followed[index].files[stream.rawValue], let size = ConfinedOpen.status(of: file.descriptor)?.size else { return }
        var remaining = size - file.offset
        while remaining > 0 {
            let count = read(index, stream, limit: Int(min(remaining, Int64(options.chunkBytes))), emit: emit)
            guard count > 0 else { break }
            remaining -= Int64(count)
        }
    }

    private func flush(_ index: Int, _ stream: LogStream, emit: (LogLine) -> Void) {
        guard var file = followed[index].files[stream.rawValue], let run = followed[index].run else { return }
        let name = followed[index].name
        file.flush { emit(LogLine(process: name, run: run, stream: stream, bytes: $0)) }
        followed[index].files[stream.rawValue] = file
    }

    // MARK: - Events

    private func handleEvents(emit: (LogLine) -> Void) {
        var all = false
        var processes: Set<Int> = []
        inotify.readEvents { event in
            if event.events.contains(.overflowed) {
                all = true
                return
            }
            guard let owner = owners[event.watch] else { return }
            let selfGone = !event.events.intersection([.selfDeleted, .selfMoved, .ignored]).isEmpty
            switch owner {
            case .ancestor, .logDirectory:
                all = true
            case .processDirectory(let index):
                if selfGone { all = true } else { processes.insert(index) }
            case .runDirectory(let index):
                if selfGone {
                    all = true
                } else if !event.events.intersection([.created, .movedIn, .movedOut, .deleted]).isEmpty {
                    processes.insert(index)
                }
            }
        }
        if all {
            refreshAll(emit: emit)
        } else {
            for index in processes.sorted() { refreshProcess(index, emit: emit) }
        }
    }

    // MARK: - Following the directory tree

    private func refreshAll(emit: (LogLine) -> Void) {
        resolveLogDirectory(emit: emit)
        for index in followed.indices { refreshProcess(index, emit: emit) }
    }

    /// Walks from the anchor to the log directory; while a component is missing, watches the
    /// deepest directory that exists for it to appear.
    private func resolveLogDirectory(emit: (LogLine) -> Void) {
        var current = anchor
        var path = logPath
        var resolved: ConfinedOpen.Opened?
        if components.isEmpty, let status = ConfinedOpen.status(of: anchor) {
            let fd = dup(anchor)
            if fd >= 0 { resolved = ConfinedOpen.Opened(descriptor: fd, id: status.id, size: status.size) }
        }
        for (depth, component) in components.enumerated() {
            switch ConfinedOpen.directory(component, beneath: current) {
            case .success(let opened):
                if current != anchor { close(current) }
                current = opened.descriptor
                if depth == components.count - 1 { resolved = opened }
            case .failure(let refusal):
                path = "\(component) in the path of \(logPath)"
                if refusal != .missing { note(refusal, path) }
                watchAncestor(current)
                if current != anchor { close(current) }
                dropLogDirectory(emit: emit)
                return
            }
        }
        guard let resolved else { return }
        if let ancestorWatch {
            owners[ancestorWatch] = nil
            inotify.unwatch(ancestorWatch)
            self.ancestorWatch = nil
        }
        if let logDirectory, logDirectory.id == resolved.id {
            close(resolved.descriptor)
            return
        }
        dropLogDirectory(emit: emit)
        let watch = try? inotify.watch(descriptor: resolved.descriptor, for: [.created, .movedIn, .selfDeleted, .selfMoved, .onlyDirectory])
        if watch == nil { note(.failed(errno), "watching \(path)") }
        if let watch { owners[watch] = .logDirectory }
        logDirectory = WatchedDirectory(descriptor: resolved.descriptor, id: resolved.id, watch: watch)
    }

    private func watchAncestor(_ fd: Int32) {
        if let ancestorWatch {
            owners[ancestorWatch] = nil
            inotify.unwatch(ancestorWatch)
        }
        ancestorWatch = try? inotify.watch(descriptor: fd, for: [.created, .movedIn, .onlyDirectory])
        if let ancestorWatch { owners[ancestorWatch] = .ancestor }
    }

    private func dropLogDirectory(emit: (LogLine) -> Void) {
        guard let logDirectory else { return }
        for index in followed.indices { closeProcess(index, emit: emit) }
        unwatch(logDirectory.watch)
        close(logDirectory.descriptor)
        self.logDirectory = nil
    }

    /// Brings one process up to date: its directory, its latest run, that run's files.
    private func refreshProcess(_ index: Int, emit: (LogLine) -> Void) {
        guard let logDirectory else { return }
        let name = followed[index].name
        switch ConfinedOpen.directory(name, beneath: logDirectory.descriptor) {
        case .failure(let refusal):
            if refusal != .missing { note(refusal, "\(logPath)/\(name)") }
            closeProcess(index, emit: emit)
            return
        case .success(let opened):
            if let current = followed[index].directory, current.id == opened.id {
                close(opened.descriptor)
            } else {
                closeProcess(index, emit: emit)
                let watch = try? inotify.watch(descriptor: opened.descriptor, for: [.created, .movedIn, .selfDeleted, .selfMoved, .onlyDirectory])
                if let watch { owners[watch] = .processDirectory(index) }
                followed[index].directory = WatchedDirectory(descriptor: opened.descriptor, id: opened.id, watch: watch)
            }
        }
        guard let directory = followed[index].directory, let latest = ConfinedOpen.largestNumberedEntry(in: directory.descriptor) else { return }
        switch ConfinedOpen.directory(String(latest), beneath: directory.descriptor) {
        case .failure(let refusal):
            if refusal != .missing { note(refusal, "\(logPath)/\(name)/\(latest)") }
            return
        case .success(let opened):
            if followed[index].run == latest, let current = followed[index].runDirectory, current.id == opened.id {
                close(opened.descriptor)
            } else {
                closeRun(index, emit: emit)
                let events: Inotify.Events = [.modified, .created, .movedIn, .movedOut, .deleted, .selfDeleted, .selfMoved, .onlyDirectory]
                let watch = try? inotify.watch(descriptor: opened.descriptor, for: events)
                if let watch { owners[watch] = .runDirectory(index) }
                followed[index].run = latest
                followed[index].runDirectory = WatchedDirectory(descriptor: opened.descriptor, id: opened.id, watch: watch)
            }
        }
        refreshFiles(index, emit: emit)
    }

    /// Opens the run's stdout/stderr when they appear; a file replaced by another (rotation)
    /// is read to its end first, then the new one from its start.
    private func refreshFiles(_ index: Int, emit: (LogLine) -> Void) {
        guard let run = followed[index].run, let runDirectory = followed[index].runDirectory else { return }
        let path = "\(logPath)/\(followed[index].name)/\(run)"
        for stream in LogStream.allCases {
            let current = followed[index].files[stream.rawValue]
            if let current, case .success(let info) = ConfinedOpen.identify(stream.fileName, beneath: runDirectory.descriptor),
                ConfinedOpen.FileID(info) == current.id
            {
                continue
            }
            switch ConfinedOpen.regularFile(stream.fileName, beneath: runDirectory.descriptor) {
            case .failure(.missing):
                continue  // not created yet, or renamed away by rotation and not yet recreated
            case .failure(let refusal):
                note(refusal, "\(path)/\(stream.fileName)")
                closeFile(index, stream, emit: emit)
            case .success(let opened):
                closeFile(index, stream, emit: emit)
                var offset: Int64 = 0
                if starting, let lines = options.startAtLastLines {
                    offset = ConfinedOpen.startOfLastLines(lines, in: opened.descriptor, size: opened.size)
                }
                followed[index].files[stream.rawValue] = FollowedFile(descriptor: opened.descriptor, id: opened.id, offset: offset)
            }
        }
    }

    private func closeFile(_ index: Int, _ stream: LogStream, emit: (LogLine) -> Void, drain: Bool = true) {
        guard let file = followed[index].files[stream.rawValue] else { return }
        if drain {
            self.drain(index, stream, emit: emit)
            flush(index, stream, emit: emit)
        }
        close(file.descriptor)
        followed[index].files[stream.rawValue] = nil
    }

    private func closeRun(_ index: Int, emit: (LogLine) -> Void, drain: Bool = true) {
        for stream in LogStream.allCases { closeFile(index, stream, emit: emit, drain: drain) }
        if let runDirectory = followed[index].runDirectory {
            unwatch(runDirectory.watch)
            close(runDirectory.descriptor)
        }
        followed[index].runDirectory = nil
        followed[index].run = nil
    }

    private func closeProcess(_ index: Int, emit: (LogLine) -> Void, drain: Bool = true) {
        closeRun(index, emit: emit, drain: drain)
        if let directory = followed[index].directory {
            unwatch(directory.watch)
            close(directory.descriptor)
        }
        followed[index].directory = nil
    }

    private func unwatch(_ watch: Int32?) {
        guard let watch else { return }
        owners[watch] = nil
        inotify.unwatch(watch)
    }

    private func note(_ refusal: ConfinedOpen.Refusal, _ path: String) {
        let message: String
        switch refusal {
        case .missing: return
        case .wrongType: message = "\(path): not a regular file or directory (a symlink, FIFO or device?); not read"
        case .failed(let code): message = "\(path): \(String(cString: strerror(code)))"
        }
        if reported.insert(message).inserted { report(message) }
    }
}
