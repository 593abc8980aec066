/// Byte units of the original schema (`BYTES`, `KB`, `MB`, `GB`, `TB`).
public enum ByteUnit {
    public static let bytes: Int64 = 1
    public static let kb: Int64 = 1024
    public static let mb: Int64 = 1024 * 1024
    public static let gb: Int64 = 1024 * 1024 * 1024
    public static let tb: Int64 = 1024 * 1024 * 1024 * 1024
}
