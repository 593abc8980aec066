import ArgumentParser
import Glibc

extension ObserverMain {
    /// ArgumentParser's default entry point, except that usage errors (unknown option,
    /// malformed value, failed validation) exit 2 like every `thermos` command, not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            var message = fullMessage(for: error) + "\n"
            message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
            exit(withError: ExitCode(2))
        }
    }
}
