public import GatehouseStore
public import Hummingbird

/// What the session middleware found for a request.
public struct AuthState: Sendable {
    /// The signed-in session (tokens already refreshed when they were about to expire), or
    /// `nil` when the request has none.
    public var session: Session?
    /// Whether a session lookup has run for this request (so handlers do not repeat it).
    public var checked: Bool

    public init(session: Session? = nil, checked: Bool = false) {
        self.session = session
        self.checked = checked
    }
}

/// A request context that carries the Gatehouse session. Adopt it in your own context to use
/// ``SessionMiddleware``, ``LoginRequiredMiddleware`` and ``OAuthRoutes``.
public protocol SessionRequestContext: RequestContext {
    /// Filled in by ``SessionMiddleware`` (or lazily by the `/oauth2/*` handlers).
    var auth: AuthState { get set }
    /// The IP address of the TCP peer, for the per-client cap on logins in flight
    /// (``PendingLoginLimits``). Default `nil` (not counted per client).
    var peerIP: String? { get }
}

extension SessionRequestContext {
    public var peerIP: String? { nil }

    /// The signed-in session, if any.
    public var session: Session? { auth.session }
}
