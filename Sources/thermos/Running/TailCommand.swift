import OrderedCollections
import ArgumentParser
import Glibc
import ThermosCheckpoint

/// `thermos tail`: the last lines of a process's log, following it while the run is live.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Tail the logs of a task process.",
        discussion: "Shows the last lines of the latest run's stdout (or stderr); with -f keeps printing while that run is live."
    )

    @OptionGroup var rootOptions: RootOptions

    @Flag(help: "Tail stderr instead of stdout.")
    var stderr = false

    @Flag(name: [.short, .long], help: "Follow the log while the run is live.")
    var follow = false

    @Option(name: [.customShort("n"), .customLong("lines")], help: "Lines to show.")
    var lines = 10

    @Argument(help: "The task id.")
    var taskID: String

    @Argument(help: "The process (needed when the task has several).")
    var process: String?

    func run() throws {
        guard let (root, state) = locateTask() else { throw fail("ERROR: Could not find task.", code: 1) }
        let logBase = TaskPath.logBase(root: root, taskID: taskID, header: state.header)
        let runs = TaskDetector(root: root).processRuns(logBase: logBase).filter { process == nil || $0.process == process }
        guard let latest = runs.max(by: { $0.run < $1.run }) else { throw fail("ERROR: No processes found.", code: 1) }
        guard Set(runs.map(\.process)).count == 1 else { throw fail("ERROR: More than one process matches query.", code: 1) }
        let path = "\(logBase)/\(latest.process)/\(latest.run)/\(stderr ? "stderr" : "stdout")"
        let active = Self.isLive(state, process: latest.process, run: latest.run)
        print("Tail of \(active ? "active" : "terminal") log \(path)")
        var offset = Self.printLastLines(path, count: lines)
        guard follow, active else { return }
        let watch = FileWatch()
        watch.watch(path)
        watch.watch(TaskPath.runnerCheckpoint(root: root, taskID: taskID))
        while true {
            watch.wait(timeout: 5)
            offset = Self.printNewBytes(path, from: offset)
            let current = (try? RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: root, taskID: taskID)))?.state
            if current.map({ !Self.isLive($0, process: latest.process, run: latest.run) }) ?? true {
                offset = Self.printNewBytes(path, from: offset)
                return
            }
        }
    }

    private func locateTask() -> (String, RunnerState)? {
        for root in rootOptions.roots {
            if let state = try? RunnerState.replaying(path: TaskPath.runnerCheckpoint(root: root, taskID: taskID)).state {
                return (root, state)
            }
        }
        return nil
    }

    static func isLive(_ state: RunnerState, process: String, run: Int) -> Bool {
        guard !(state.taskState?.isTerminal ?? false), let runs = state.processes[process], run < runs.count else { return false }
        return runs[run].state == .forked || runs[run].state == .running
    }

    /// Opens a log the task may have replaced: never through a final symlink, never blocking on
    /// a FIFO, and only a regular file (-1 otherwise).
    static func openLog(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return -1 }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            printError("\(path): not a regular file; not read")
            return -1
        }
        return fd
    }

    /// Prints the real last `count` lines of `path` (reading backwards from the end); returns the file size.
    static func printLastLines(_ path: String, count: Int) -> Int {
        let fd = openLog(path)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let size = Int(info.st_size)
        var start = size
        var tail: [UInt8] = []
        var newlines = 0
        let chunkSize = 64 * 1024
        while start > 0 {
            let length = min(chunkSize, start)
            start -= length
            var chunk = [UInt8](repeating: 0, count: length)
            let read = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(start)) }
            guard read == length else { break }
            tail.insert(contentsOf: chunk, at: 0)
            // A final newline ends the last line; count the separators before it.
            newlines = tail.dropLast(tail.last == 10 ? 1 : 0).filter { $0 == 10 }.count
            if newlines >= count { break }
        }
        var body = tail.last == 10 ? Array(tail.dropLast()) : tail
        let separators = body.indices.filter { body[$0] == 10 }
        if separators.count >= count, count > 0 {
            body = Array(body[(separators[separators.count - count] + 1)...])
        } else if count == 0 {
            body = []
        }
        if !body.isEmpty || (count > 0 && size > 0 && tail.last == 10) {
            FileHandleOutput.write(body + [10])
        }
        return size
    }

    /// Prints what was appended to `path` since `offset`; returns the new offset.
    static func printNewBytes(_ path: String, from offset: Int) -> Int {
        let fd = openLog(path)
        guard fd >= 0 else { return offset }
        defer { close(fd) }
        var position = offset
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            guard count > 0 else { break }
            FileHandleOutput.write(Array(chunk[0..<count]))
            position += count
        }
        return position
    }
}

/// Writes raw bytes to stdout (flushing Swift's buffered `print` first).
enum FileHandleOutput {
    static func write(_ bytes: [UInt8]) {
        flushStandardOutput()
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
