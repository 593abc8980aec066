/// Whether a live process really is the one a checkpoint recorded (the original's
/// `this_is_really_our_pid`, reference §1.7): pids are reused, so a pid only counts when its
/// start time is within 10 s of the recorded time and its owner matches.
public enum ProcessValidation {
    /// `MAX_START_TIME_DRIFT`.
    public static let maximumStartTimeDrift = 10.0

    /// - Parameters:
    ///   - processUid: the real uid of the live process (nil if unreadable).
    ///   - processUser: its user name (nil if it has no passwd entry).
    ///   - processStart: its start time, seconds since the epoch.
    ///   - owner: the header's uid and user.
    ///   - recordedTime: the fork/start time in the checkpoint.
    public static func isOurs(
        processUid: Int32?, processUser: String?, processStart: Double, owner: ProcessOwner, recordedTime: Double
    ) -> Bool {
        guard abs(processStart - recordedTime) < maximumStartTimeDrift else { return false }
        if let uid = owner.uid {
            guard let processUid else { return false }
            // Launched as root: the process may have switched to the task's user since.
            return processUid == uid || uid == 0
        }
        // Legacy headers without uid: compare user names.
        guard let processUser else { return false }
        return processUser == owner.user
    }
}
