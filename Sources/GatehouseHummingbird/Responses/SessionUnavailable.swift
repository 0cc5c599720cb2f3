public import Hummingbird

/// A signed-in request that cannot go on right now although its session is intact: the
/// session store cannot be read, or the access token the request needs has expired and the
/// IdP could not renew it. Answered `503` with `Retry-After` — a page for navigations, JSON
/// (`error`, `error_description`) otherwise — and nothing stored is changed (DESIGN §4: a
/// failure never loses a session, and says so). A broken store must not look like "signed
/// out" and start a login that cannot finish.
public struct SessionUnavailable: Error, HTTPResponseError {
    public enum Reason: String, Sendable {
        /// The store did not answer.
        case storeUnavailable = "session_store_unavailable"
        /// The access token has expired and the refresh failed (IdP unreachable or answering
        /// errors other than `invalid_grant`, which ends the session instead).
        case refreshFailed = "token_refresh_failed"
    }

    public let reason: Reason

    public init(_ reason: Reason) {
        self.reason = reason
    }

    /// Seconds a client should wait before trying again.
    static let retryAfterSeconds = 5

    public var status: HTTPResponse.Status { .serviceUnavailable }

    var message: String {
        switch reason {
        case .storeUnavailable:
            "Your session cannot be read right now. You are still signed in; please try again in a moment."
        case .refreshFailed:
            "Your access could not be renewed because the identity provider cannot be reached. "
                + "You are still signed in; please try again in a moment."
        }
    }

    /// The request's own path and query when ``ReturnPath/sanitize(_:)`` keeps them, else `/`:
    /// a target such as `/\evil.example` or `//evil.example` must not become a link to
    /// another site.
    static func retryLink(_ request: Request) -> String {
        ReturnPath.sanitize(request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""))
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response: Response
        if LoginChallenge.isNavigation(request) {
            response = Page(
                status: status, title: "Temporarily unavailable", message: message, category: reason.rawValue,
                link: (href: Self.retryLink(request), text: "Try again")
            ).response()
        } else {
            response = JSONResponse.oauthError(reason.rawValue, description: message, status: status)
        }
        response.headers[.retryAfter] = String(Self.retryAfterSeconds)
        return response
    }
}
