public import Hummingbird

/// Reads the session cookie, loads the session (refreshing its access token when it is about
/// to expire) and puts it in ``SessionRequestContext/auth``. Never refuses a request itself:
/// put ``LoginRequiredMiddleware`` on the routes that need a login.
public struct SessionMiddleware<Context: SessionRequestContext>: RouterMiddleware {
    let auth: AuthService

    public init(_ auth: AuthService) {
        self.auth = auth
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        _ = try await auth.session(for: request, context: &context)
        return try await next(request, context)
    }
}
