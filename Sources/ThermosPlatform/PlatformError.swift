import Glibc
public import SystemPackage

/// A system call that failed: what was attempted, on which path, the errno, and the error
/// underneath when there is one (swift-nio's `FileSystemError` style).
public struct PlatformError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A system call returned an error.
        public static let systemCall = Code("systemCall")
        /// A file's content could not be used (e.g. not UTF-8, not a number).
        public static let invalidContent = Code("invalidContent")
    }

    public var code: Code
    /// The operation, e.g. `open for writing`, `posix_spawn /bin/bash`.
    public var operation: String
    public var path: String?
    public var errno: Errno?

    public init(_ code: Code, operation: String, path: String? = nil, errno: Errno? = nil) {
        self.code = code
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// A failed system call with the current `errno`.
    public static func system(_ operation: String, path: String? = nil, errno code: Int32? = nil) -> PlatformError {
        PlatformError(.systemCall, operation: operation, path: path, errno: Errno(rawValue: code ?? Glibc.errno))
    }

    /// The raw `errno` value, when a system call failed.
    public var errnoValue: Int32? { errno?.rawValue }

    public var description: String {
        let reason = errno.map { String(cString: strerror($0.rawValue)) } ?? "failed"
        return path.map { "cannot \(operation) \($0): \(reason)" } ?? "cannot \(operation): \(reason)"
    }
}

/// Checks the result of a system call that returns -1 and sets errno on failure.
@discardableResult
public func checked(_ result: Int32, _ operation: @autoclosure () -> String, path: String? = nil) throws(PlatformError) -> Int32 {
    guard result >= 0 else { throw PlatformError.system(operation(), path: path) }
    return result
}
