import GatehouseHummingbird
import Hummingbird

/// The gateway's front door: Gatehouse's own endpoints (`/oauth2/*`, `/healthz`, `/readyz`,
/// `/metrics`) go to the router; everything else is checked for a bearer JWT (only with
/// `GATEHOUSE_ALLOW_BEARER`), else a session — or a `GATEHOUSE_SKIP_AUTH_ROUTES` prefix — and
/// proxied.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let auth: AuthService
    let proxy: ReverseProxy
    let skipAuthRoutes: SkipAuthRoutes
    /// `nil` unless `GATEHOUSE_ALLOW_BEARER` is on.
    let bearer: BearerAuthenticator?

    /// Paths the gateway answers itself (never proxied).
    static func isGatewayPath(_ path: String) -> Bool {
        path == "/oauth2" || path.hasPrefix("/oauth2/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.headers[.upgrade] != nil else { return try await route(request, context: context, next: next) }
        // After a request asking for an upgrade, the HTTP/1.1 parser reads nothing more on the
        // connection: whatever the answer, the connection must close after it.
        var response: Response
        do {
            response = try await route(request, context: context, next: next)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.connection] = "close"
        return response
    }

    private func route(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if Self.isGatewayPath(path) { return try await next(request, context) }
        if let bearer, let token = BearerAuthenticator.token(in: request) {
            switch await bearer.authenticate(token) {
            case .accepted(let identity):
                if let refusal = refuseUpgrade(request) { return refusal }
                return await proxy.forward(request, peerIP: context.peerIP, principal: .bearer(identity))
            case .refused(let response):
                return response
            }
        }
        var context = context
        let session = try await auth.session(for: request, context: &context)
        if session == nil, !skipAuthRoutes.matches(path) {
            return LoginChallenge.response(for: request)
        }
        if let refusal = refuseUpgrade(request) { return refusal }
        return await proxy.forward(request, peerIP: context.peerIP, session: session)
    }

    /// Protocol upgrades (WebSocket, `h2c`) are not passed through yet: rather than letting the
    /// upstream see a plain `GET` without its `Upgrade` (hop-by-hop) and answer something the
    /// client cannot use, the gateway says so — after the session check, so that nobody
    /// unauthenticated learns anything.
    func refuseUpgrade(_ request: Request) -> Response? {
        guard let upgrade = request.headers[.upgrade] else { return nil }
        let protocolName = String(
            (upgrade.split(separator: ",").first.map { $0.trimmingWhitespace().lowercased() } ?? "").prefix(32))
        proxy.logger.notice("protocol upgrade refused", metadata: ["upgrade": "\(protocolName)"])
        return Page(
            status: .notImplemented, title: "Upgrade not supported",
            message: "This gateway does not pass \(protocolName == "websocket" ? "WebSocket connections" : "protocol upgrades") "
                + "through to the application yet.",
            category: "upgrade_not_supported"
        ).response()
    }
}
