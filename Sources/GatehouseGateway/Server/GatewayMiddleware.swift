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
        let path = request.uri.path
        if Self.isGatewayPath(path) { return try await next(request, context) }
        if let bearer, let token = BearerAuthenticator.token(in: request) {
            switch await bearer.authenticate(token) {
            case .accepted(let identity):
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
        return await proxy.forward(request, peerIP: context.peerIP, session: session)
    }
}
