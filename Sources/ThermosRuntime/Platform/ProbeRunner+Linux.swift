import CThermosConfine
import CThermosSys
import Glibc
import ThermosConfig
import ThermosPlatform

/// Runs probe attempts inside the runner's epoll loop, never blocking and never on a thread:
/// `exec` probes are `/bin/bash -c` children in a session of their own, watched by pidfd
/// (cut by SIGKILL to their whole process group); `tcp` and `http` probes are non-blocking
/// sockets (connect → EPOLLOUT, request, bounded read → EPOLLIN). Hosts are IP literals or
/// `localhost`: a name lookup could block the loop, so other names fail with a clear detail.
final class LinuxProbeRunner {
    /// Tokens at or above this belong to probes (pidfd tokens are `1 << 32 + fd`).
    static let tokenBase: UInt64 = 1 << 40
    /// At most this much of an HTTP answer is read.
    static let maximumAnswer = 64 * 1024

    private enum Work {
        case exec(pid: pid_t, pidfd: Int32)
        case socket(fd: Int32, http: Bool, request: [UInt8], answer: [UInt8])
    }

    private struct Running {
        var request: ProbeRequest
        var work: Work
    }

    private let epoll: Int32
    private var running: [UInt64: Running] = [:]
    private var tokens: [ProbeAttempt: UInt64] = [:]
    private var nextToken = LinuxProbeRunner.tokenBase
    /// Exit statuses of probe children reaped by the runner's general reaper first.
    private var reaped: [pid_t: Int32] = [:]

    init(epoll: Int32) {
        self.epoll = epoll
    }

    deinit {
        for token in Array(running.keys) { stop(token, kill: true) }
    }

    /// Starts `request`; returns its result when it ended at once (e.g. connection refused).
    func start(_ request: ProbeRequest) -> (passed: Bool, detail: String)? {
        let token = nextToken
        nextToken += 1
        switch request.check {
        case .exec(let command):
            return startExec(request, command: command, token: token)
        case .tcp(let host, let port):
            return startSocket(request, host: host, port: port, http: nil, token: token)
        case .http(let target):
            let text = "GET \(target.path) HTTP/1.0\r\nHost: \(target.host):\(target.port)\r\nUser-Agent: thermos-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            return startSocket(request, host: target.host, port: target.port, http: Array(text.utf8), token: token)
        }
    }

    /// Stops an attempt (timed out, or its run ended); its result will not be reported.
    func cancel(_ attempt: ProbeAttempt) {
        guard let token = tokens[attempt] else { return }
        stop(token, kill: true)
    }

    /// Whether `token` is one of ours.
    func owns(_ token: UInt64) -> Bool { token >= Self.tokenBase }

    /// Handles readiness of a probe's fd; returns a finished attempt's result.
    func handle(_ token: UInt64) -> RunnerEvent? {
        guard let entry = running[token] else { return nil }
        switch entry.work {
        case .exec(let pid, _):
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == 0 { return nil }
            // Its pid stays reserved while it is the group id of leftovers, so this cannot hit another group.
            Glibc.kill(-pid, SIGKILL)
            if result < 0 {
                guard let stored = reaped.removeValue(forKey: pid) else { return finish(token, false, "lost track of the probe command") }
                status = stored
            }
            let code = cthermos_wait_return_code(status)
            stop(token, kill: true)
            return .probeFinished(entry.request.attempt, passed: code == 0, detail: code >= 0 ? "exit \(code)" : "killed by signal \(-code)")
        case .socket(let fd, let http, let request, var answer):
            if request.isEmpty && answer.isEmpty && !http {
                return finish(token, socketError(fd).map { (false, $0) } ?? (true, "connected"))
            }
            if !request.isEmpty {
                if let error = socketError(fd) { return finish(token, false, error) }
                let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent < 0 {
                    if errno == EAGAIN { return nil }
                    return finish(token, false, "cannot send the request: \(String(cString: strerror(errno)))")
                }
                running[token]?.work = .socket(fd: fd, http: true, request: Array(request.dropFirst(sent)), answer: [])
                if sent == request.count { _ = cthermos_epoll_modify_readable(epoll, fd, token) }
                return nil
            }
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while answer.count < Self.maximumAnswer {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count > 0 {
                    answer += buffer.prefix(count)
                    continue
                }
                if count < 0 && (errno == EAGAIN || errno == EINTR) {
                    running[token]?.work = .socket(fd: fd, http: true, request: [], answer: answer)
                    return nil
                }
                break
            }
            return finish(token, Self.judge(answer, expectBody: entry.request.expectBody))
        }
    }

    /// Keeps the status of a probe child the general reaper collected.
    func reapedChild(_ pid: pid_t, status: Int32) {
        for entry in running.values {
            if case .exec(let child, _) = entry.work, child == pid { reaped[pid] = status }
        }
    }

    /// `HTTP 200` passes (2xx); with `expectBody`, the trimmed body must equal it.
    static func judge(_ answer: [UInt8], expectBody: String?) -> (Bool, String) {
        let text = String(decoding: answer, as: UTF8.self)
        guard text.hasPrefix("HTTP/"), let space = text.firstIndex(of: " ") else {
            return (false, answer.isEmpty ? "connection closed without an answer" : "not an HTTP answer")
        }
        let codeText = text[text.index(after: space)...].prefix(3)
        guard let code = Int(codeText) else { return (false, "not an HTTP answer") }
        guard (200...299).contains(code) else { return (false, "HTTP \(code)") }
        guard let expectBody else { return (true, "HTTP \(code)") }
        let body = text.firstRange(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        let trimmed = body.trimmingCharacters(in: " \t\r\n")
        if trimmed == expectBody { return (true, "HTTP \(code), body \(expectBody)") }
        let shown = trimmed.count > 40 ? String(trimmed.prefix(37)) + "..." : trimmed
        return (false, "HTTP \(code), body '\(shown)' is not '\(expectBody)'")
    }

    // MARK: - Starting

    private func startExec(_ request: ProbeRequest, command: String, token: UInt64) -> (passed: Bool, detail: String)? {
        // The directory is opened beneath the sandbox (a symlink swapped in cannot lead out) and
        // handed to the child as fd 3, which it enters through /proc/self/fd/3.
        let sandbox = open(request.sandbox.isEmpty ? "/" : request.sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard sandbox >= 0 else { return (false, "cannot open the sandbox: \(String(cString: strerror(errno)))") }
        defer { close(sandbox) }
        var directory = sandbox
        var opened: Int32 = -1
        if let cwd = request.cwd, !cwd.isEmpty {
            opened = cthermos_openat2(sandbox, cwd, UInt64(O_RDONLY | O_DIRECTORY | O_CLOEXEC), cthermos_RESOLVE_BENEATH_NO_MAGICLINKS)
            guard opened >= 0 else { return (false, "cannot enter cwd \(cwd) inside the sandbox: \(String(cString: strerror(errno)))") }
            directory = opened
        }
        defer { if opened >= 0 { close(opened) } }
        var environment = ["HOME=\(request.sandbox)", "PATH=\(Self.path)"]
        environment += request.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var arguments = ["/bin/bash", "-c", command]
        var executable = "/bin/bash"
        if let user = request.user {
            // Never run a task's probe with more rights than its processes have.
            guard let entry = getpwnam(user) else { return (false, "unknown user \(user)") }
            executable = "/usr/bin/setpriv"
            arguments = [executable, "--reuid=\(entry.pointee.pw_uid)", "--regid=\(entry.pointee.pw_gid)", "--init-groups", "--"] + arguments
            environment += ["USER=\(user)", "LOGNAME=\(user)"]
        }
        var spawn = SpawnRequest(executable: executable, arguments: arguments, environment: environment)
        spawn.descriptors = [
            0: .open("/dev/null", flags: O_RDONLY), 1: .open("/dev/null", flags: O_WRONLY), 2: .open("/dev/null", flags: O_WRONLY),
            3: .inherit(directory),
        ]
        spawn.directory = "/proc/self/fd/3"
        spawn.newSession = true
        let pid: pid_t
        do {
            pid = try spawn.spawn()
        } catch {
            return (false, "cannot start the probe: \(error)")
        }
        let pidfd = cthermos_pidfd_open(pid)
        guard pidfd >= 0, cthermos_epoll_add(epoll, pidfd, token) == 0 else {
            Glibc.kill(-pid, SIGKILL)
            if pidfd >= 0 { close(pidfd) }
            return (false, "cannot watch the probe command")
        }
        running[token] = Running(request: request, work: .exec(pid: pid, pidfd: pidfd))
        tokens[request.attempt] = token
        return nil
    }

    private func startSocket(
        _ request: ProbeRequest, host: String, port: Int, http: [UInt8]?, token: UInt64
    ) -> (passed: Bool, detail: String)? {
        let literal = host == "localhost" ? "127.0.0.1" : host
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, literal, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
        } else if inet_pton(AF_INET6, literal, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
        } else {
            return (false, "cannot resolve \(host) without blocking: use an IP address or localhost")
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (false, "cannot create a socket: \(String(cString: strerror(errno)))") }
        let result: Int32 = family == AF_INET
            ? withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            : withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        if result != 0 && errno != EINPROGRESS {
            let detail = String(cString: strerror(errno)).lowercased()
            close(fd)
            return (false, detail)
        }
        guard cthermos_epoll_add_writable(epoll, fd, token) == 0 else {
            close(fd)
            return (false, "cannot watch the probe socket")
        }
        running[token] = Running(request: request, work: .socket(fd: fd, http: http != nil, request: http ?? [], answer: []))
        tokens[request.attempt] = token
        return nil
    }

    // MARK: - Ending

    private func finish(_ token: UInt64, _ result: (Bool, String)) -> RunnerEvent? {
        finish(token, result.0, result.1)
    }

    private func finish(_ token: UInt64, _ passed: Bool, _ detail: String) -> RunnerEvent? {
        guard let entry = running[token] else { return nil }
        stop(token, kill: true)
        return .probeFinished(entry.request.attempt, passed: passed, detail: detail)
    }

    private func stop(_ token: UInt64, kill: Bool) {
        guard let entry = running.removeValue(forKey: token) else { return }
        tokens[entry.request.attempt] = nil
        switch entry.work {
        case .exec(let pid, let pidfd):
            // The whole session's group: a probe's children go with it.
            if kill { Glibc.kill(-pid, SIGKILL) }
            _ = cthermos_epoll_remove(epoll, pidfd)
            close(pidfd)
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == 0 {
                // Killed just now: the general reaper collects it on the next round.
            }
            reaped[pid] = nil
        case .socket(let fd, _, _, _):
            _ = cthermos_epoll_remove(epoll, fd)
            close(fd)
        }
    }

    private func socketError(_ fd: Int32) -> String? {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return String(cString: strerror(errno)).lowercased() }
        return error == 0 ? nil : String(cString: strerror(error)).lowercased()
    }

    private static let path: String = {
        if let value = getenv("PATH"), value.pointee != 0 { return String(cString: value) }
        return "/usr/local/bin:/usr/bin:/bin"
    }()
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
