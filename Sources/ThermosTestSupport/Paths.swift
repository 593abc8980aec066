import Glibc
import ThermosPlatform

/// Locations the tests need: the repository, the shared fixtures, and the built binaries.
public enum TestPaths {
    /// The repository root, derived from this file's path (`Sources/ThermosTestSupport/Paths.swift`).
    public static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    /// `../shared` beside the repository.
    public static let shared = repositoryRoot + "/../shared"

    /// The Aurora checkpoint root written by the original Thermos (read in place, never modified).
    public static let auroraRoot = shared + "/fixtures/aurora-root"

    /// The stand-alone Python checkpoint reader.
    public static let pythonReader = shared + "/tools/read_checkpoint.py"
}

extension TestPaths {
    /// A binary built next to the running test bundle (e.g. `thermos` in `.build/debug`).
    public static func builtBinary(_ name: String) -> String {
        Files.directory(of: Files.currentExecutable) + "/" + name
    }
}
