import Hummingbird

/// `Host` must name the bound address, `localhost` or an allowed name (any port): a page on
/// another site cannot reach the observer through DNS rebinding. 403 otherwise. A request with
/// no `Host` (HTTP/1.0) is let through: browsers always send one.
struct HostCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowed: Set<String>

    init(allowed: some Sequence<String>) {
        self.allowed = Set(allowed.map { Self.normalized($0) })
    }

    /// Lowercased, without port and IPv6 brackets.
    static func normalized(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("[") {
            name = String(name.dropFirst().prefix { $0 != "]" })
        } else if name.count(where: { $0 == ":" }) == 1, let colon = name.firstIndex(of: ":") {
            name = String(name[..<colon])
        }
        return name.hasSuffix(".") ? String(name.dropLast()) : name
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let authority = request.head.authority, !allowed.contains(Self.normalized(authority)) {
            return text("Host not allowed: use the observer's address or pass --allowed-host\n", status: .forbidden)
        }
        return try await next(request, context)
    }
}

/// Only GET (and HEAD, which the router answers from GET) exist: anything else is 405 — but
/// POST under `postPrefix` (the control routes of `--enable-control`).
struct MethodCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    var postPrefix: String? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post, let postPrefix, request.uri.path.hasPrefix(postPrefix) {
            return try await next(request, context)
        }
        guard request.method == .get || request.method == .head else {
            var response = text("Method not allowed\n", status: .methodNotAllowed)
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        return try await next(request, context)
    }
}

/// `X-Content-Type-Options: nosniff` everywhere; a restrictive `Content-Security-Policy` on
/// pages (scripts and styles only from the observer, no inline script, no framing); `no-store`
/// on everything but the static assets.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String { observerContentSecurityPolicy }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
            response.headers[.init("X-Frame-Options")!] = "DENY"
        }
        if response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = request.uri.path.hasPrefix("/assets/") ? "public, max-age=300" : "no-store"
        }
        return response
    }
}

/// The pages' Content-Security-Policy.
let observerContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

