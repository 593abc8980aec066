/// Names shared by `thermos submit`, the batch script and `thermos jobs`.
public enum SlurmNames {
    /// The task id of one instance: `<name>.<array job id>.<instance>.<nonce>`. Slurm reuses job
    /// ids (a fresh `slurmctld -c`, or MaxJobId wrapping), so the nonce chosen at submit keeps a
    /// new job from replaying an old one's checkpoint on a reused root.
    public static func taskID(name: String, jobID: Int, instance: Int, nonce: String) -> String {
        "\(name).\(jobID).\(instance).\(nonce)"
    }

    /// A fresh nonce: 8 lowercase hex digits from the system's random generator.
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// `text` as one single-quoted shell word.
    public static func shellQuoted(_ text: String) -> String {
        var quoted = "'"
        for character in text {
            if character == "'" { quoted += "'\\''" } else { quoted.append(character) }
        }
        return quoted + "'"
    }

    /// Whether `name` is usable as it is in a task id, a file name and a Slurm job name
    /// (letters, digits, `_` and `-`).
    public static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
