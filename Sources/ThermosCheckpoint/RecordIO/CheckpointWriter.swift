import Glibc

/// When a `CheckpointWriter` makes records durable.
public enum SyncPolicy: String, Sendable, Hashable, CaseIterable {
    /// `fdatasync` after every record (the original's behaviour).
    case always
    /// The caller batches records and calls `sync()` once per batch.
    case group
    /// Never sync explicitly (tests, benchmarks, scratch data).
    case none
}

/// Appends framed records to a checkpoint file. Each record is written with a single `write`
/// to an `O_APPEND` descriptor, so concurrent readers see either nothing or whole records
/// (or a torn tail if the machine dies mid-write, which every reader here tolerates).
public final class CheckpointWriter {
    public let path: String
    public let policy: SyncPolicy
    private var descriptor: Int32
    private var unsynced = false

    /// Opens (creating if needed) `path` for appending. With `lock`, takes an exclusive
    /// non-blocking `flock` and throws if another process holds it. With `repairTornTail`, a torn
    /// last record left by a crash is truncated away first so the stream stays readable.
    /// With `waitForLock`, blocks until the lock is free instead of failing (a takeover after the
    /// previous owner was killed).
    public init(
        path: String, policy: SyncPolicy = .always, lock: Bool = false, waitForLock: Bool = false,
        repairTornTail: Bool = true
    ) throws(CheckpointError) {
        self.path = path
        self.policy = policy
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIO.error("open for appending", path: path, errno: errno) }
        descriptor = fd
        if lock, waitForLock {
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let code = errno
                    Glibc.close(fd)
                    throw FileIO.error("lock", path: path, errno: code)
                }
            }
        } else if lock, flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            Glibc.close(fd)
            if code == EWOULDBLOCK {
                throw CheckpointError(
                    .io, "locked by another process (a runner or coordinator still owns this stream)",
                    path: path, errno: code)
            }
            throw FileIO.error("lock", path: path, errno: code)
        }
        if repairTornTail {
            do {
                try truncateTornTail()
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
    }

    /// Adopts an already open, already locked append descriptor (a coordinator's inherited stream).
    public init(adopting descriptor: Int32, path: String, policy: SyncPolicy) {
        self.path = path
        self.policy = policy
        self.descriptor = descriptor
    }

    /// The open descriptor (e.g. to hand to a child process), or -1 once closed.
    public var fileDescriptor: Int32 { descriptor }

    /// Appends one record and makes it visible at once; with `syncAfter`, syncs it afterwards
    /// (readers see the record before the sync completes).
    public func appendVisible(_ record: RunnerCkpt) throws(CheckpointError) {
        guard descriptor >= 0 else { throw CheckpointError(.io, "writer is closed", path: path) }
        try writeAll(try RecordFraming.frame(record.thriftPayload()))
        unsynced = true
    }

    deinit {
        if descriptor >= 0 {
            if unsynced { _ = fdatasync(descriptor) }
            Glibc.close(descriptor)
        }
    }

    /// The stream's current length in bytes (0 if it cannot be read).
    public var length: Int {
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0 else { return 0 }
        return Int(info.st_size)
    }

    private func truncateTornTail() throws(CheckpointError) {
        // A new (empty) stream has no tail to repair: no need to open and read it again.
        guard length > 0 else { return }
        let bytes = try FileIO.read(path: path)
        let (records, tail) = RecordFraming.split(bytes)
        guard case .torn = tail else { return }
        let valid = records.last.map { $0.offset + RecordFraming.headerSize + $0.payload.count } ?? 0
        guard ftruncate(descriptor, off_t(valid)) == 0 else {
            throw FileIO.error("truncate torn record", path: path, errno: errno)
        }
    }

    /// Cuts the stream back to its first `length` bytes (the end of a complete record: records a
    /// power cut left behind that the stream's owner never committed).
    public func truncate(to length: Int) throws(CheckpointError) {
        guard descriptor >= 0 else { throw CheckpointError(.io, "writer is closed", path: path) }
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw FileIO.error("truncate", path: path, errno: errno)
        }
        unsynced = true
    }

    /// Appends one record, syncing it if the policy is `always`.
    public func append(_ record: RunnerCkpt) throws(CheckpointError) {
        try append(contentsOf: [record])
    }

    /// Appends records with one `write` per record, then syncs once if the policy is `always`.
    public func append(contentsOf records: [RunnerCkpt]) throws(CheckpointError) {
        guard descriptor >= 0 else { throw CheckpointError(.io, "writer is closed", path: path) }
        for record in records {
            try writeAll(try RecordFraming.frame(record.thriftPayload()))
        }
        unsynced = true
        if policy == .always { try sync() }
    }

    private func writeAll(_ bytes: [UInt8]) throws(CheckpointError) {
        try FileIO.writeAll(descriptor, bytes, path: path)
    }

    /// Makes every appended record durable (`fdatasync`). A no-op when nothing is pending.
    public func sync() throws(CheckpointError) {
        guard unsynced, descriptor >= 0 else { return }
        guard fdatasync(descriptor) == 0 else { throw FileIO.error("fdatasync", path: path, errno: errno) }
        unsynced = false
    }

    /// Syncs pending records (unless the policy is `none`) and closes the file, releasing the lock.
    public func close() throws(CheckpointError) {
        guard descriptor >= 0 else { return }
        defer {
            Glibc.close(descriptor)
            descriptor = -1
        }
        if policy != .none { try sync() }
        unsynced = false
    }
}
