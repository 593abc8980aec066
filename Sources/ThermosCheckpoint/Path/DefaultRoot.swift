import Glibc

/// Which checkpoint root (and sandbox base) to use when none was given: `$THERMOS_ROOT`, else
/// `/var/run/thermos` — or, for a user who cannot write there, a per-user root
/// (`$XDG_STATE_HOME/thermos`, else `~/.local/state/thermos`) instead of failing with
/// "Permission denied".
public enum DefaultRoot {
    /// The default sandbox base of `thermos run` (`<base>/<task id>`).
    public static let systemSandboxBase = "/var/lib/thermos/sandbox"

    /// `$THERMOS_ROOT` when set and not empty.
    public static var environmentRoot: String? {
        guard let value = getenv("THERMOS_ROOT"), value.pointee != 0 else { return nil }
        return String(cString: value)
    }

    /// `$XDG_STATE_HOME/thermos`, else `$HOME/.local/state/thermos` (the passwd home when
    /// `HOME` is unset); nil when neither is known.
    public static var perUserRoot: String? {
        if let state = getenv("XDG_STATE_HOME"), state.pointee == 47 { return String(cString: state) + "/thermos" }
        if let home = getenv("HOME"), home.pointee == 47 { return String(cString: home) + "/.local/state/thermos" }
        if let entry = getpwuid(getuid()), let home = entry.pointee.pw_dir, home.pointee == 47 {
            return String(cString: home) + "/.local/state/thermos"
        }
        return nil
    }

    /// Whether this process can write `path`, or create it (its nearest existing ancestor is
    /// writable).
    public static func isWritable(_ path: String) -> Bool {
        var current = path
        while true {
            if access(current, F_OK) == 0 { return access(current, W_OK | X_OK) == 0 }
            guard let slash = current.utf8.lastIndex(of: 47) else { return false }
            current = slash == current.utf8.startIndex ? "/" : String(current[..<slash])
        }
    }

    /// The root to run tasks in when no `--root` was given, and a notice when it is the
    /// per-user root because the system root is not writable.
    public static func forWriting() -> (root: String, notice: String?) {
        if let environmentRoot { return (environmentRoot, nil) }
        let system = TaskPath.defaultCheckpointRoot
        guard !isWritable(system), let perUser = perUserRoot else { return (system, nil) }
        return (perUser, "Using the per-user root \(perUser): \(system) is not writable by this user (--root or THERMOS_ROOT choose another).")
    }

    /// The roots to read when no `--root` was given: `$THERMOS_ROOT`, else `/var/run/thermos`,
    /// plus the per-user root for a user who cannot write the system root.
    public static func forReading() -> [String] {
        if let environmentRoot { return [environmentRoot] }
        let system = TaskPath.defaultCheckpointRoot
        guard !isWritable(system), let perUser = perUserRoot, perUser != system else { return [system] }
        return [system, perUser]
    }

    /// The sandbox of `taskID` when none was given: under `/var/lib/thermos/sandbox`, or under
    /// `<per-user root>/sandbox` for a user who cannot write there.
    public static func sandbox(taskID: String) -> String {
        if !isWritable(systemSandboxBase), let perUser = perUserRoot {
            return "\(perUser)/sandbox/\(taskID)"
        }
        return "\(systemSandboxBase)/\(taskID)"
    }
}
