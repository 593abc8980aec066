extension RunnerState {
    /// Reads `path` and replays it (non-recovery, like `thermos read`). A torn last record is
    /// ignored and reported in the returned stream's `tail`; any other problem throws a
    /// `CheckpointError` naming the file and the record's byte offset.
    public static func replaying(path: String) throws(CheckpointError) -> (state: RunnerState, stream: CheckpointStream) {
        let stream = try CheckpointReader.read(path: path)
        return (try replaying(stream), stream)
    }

    /// Replays the records of an already-read stream (non-recovery), locating errors by offset.
    public static func replaying(_ stream: CheckpointStream) throws(CheckpointError) -> RunnerState {
        var state = RunnerState()
        let dispatcher = CheckpointDispatcher()
        for entry in stream.entries {
            do {
                try dispatcher.dispatch(&state, entry.record)
            } catch let error as CheckpointError {
                throw error.located(path: stream.path, offset: entry.offset)
            } catch {
                throw CheckpointError(.invalidState, "\(error)", path: stream.path, offset: entry.offset)
            }
        }
        return state
    }
}
