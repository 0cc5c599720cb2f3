public import Hummingbird

/// Lets only requests with a session through. Without one, a navigation is redirected to
/// `/oauth2/start` and anything else gets `401` JSON (see ``LoginChallenge``).
public struct LoginRequiredMiddleware<Context: SessionRequestContext>: RouterMiddleware {
    let auth: AuthService

    public init(_ auth: AuthService) {
        self.auth = auth
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        guard try await auth.session(for: request, context: &context) != nil else {
            return LoginChallenge.response(for: request)
        }
        return try await next(request, context)
    }
}
