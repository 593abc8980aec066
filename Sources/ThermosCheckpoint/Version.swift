/// The version of this Thermos (`thermos --version`, `thermos-observer --version`).
public enum ThermosVersion {
    public static let string = "0.10.0"
}
