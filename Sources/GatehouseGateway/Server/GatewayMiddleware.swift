import GatehouseHummingbird
import Hummingbird

/// The gateway's front door: Gatehouse's own endpoints (`/oauth2/*`, `/healthz`, `/readyz`,
/// `/metrics`) go to the router; everything else is checked for a session — or a
/// `GATEHOUSE_SKIP_AUTH_ROUTES` prefix — and proxied.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let auth: AuthService
    let proxy: ReverseProxy
    let skipAuthRoutes: SkipAuthRoutes

    /// Paths the gateway answers itself (never proxied).
    static func isGatewayPath(_ path: String) -> Bool {
        path == "/oauth2" || path.hasPrefix("/oauth2/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if Self.isGatewayPath(path) { return try await next(request, context) }
        var context = context
        let session = try await auth.session(for: request, context: &context)
        if session == nil, !skipAuthRoutes.matches(path) {
            return LoginChallenge.response(for: request)
        }
        return await proxy.forward(request, peerIP: context.peerIP, session: session)
    }
}
