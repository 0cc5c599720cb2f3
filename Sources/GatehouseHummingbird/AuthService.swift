import Foundation
public import GatehouseOAuth
public import GatehouseStore
public import Hummingbird
public import Logging

/// Everything the `/oauth2/*` routes and the session middleware share: the OAuth client, the
/// session store, the token refresher and the settings. Create one per application.
///
/// ```swift
/// let auth = AuthService(client: client, store: store, settings: AuthSettings(publicURL: url))
/// let router = Router(context: GatehouseRequestContext.self)
/// router.add(middleware: SessionMiddleware(auth))
/// OAuthRoutes(auth).register(on: router)
/// router.group("app").add(middleware: LoginRequiredMiddleware()).get { … }
/// ```
public final class AuthService: Sendable {
    public let client: OAuthClient
    public let store: SessionStore
    public let settings: AuthSettings
    public let cookies: AuthCookies
    let refresher: TokenRefresher
    /// The `jti`s of accepted back-channel logout tokens (one cache per application).
    public let logoutReplayCache: ReplayCache
    /// Caps on logins in flight (``AuthSettings/pendingLimits``).
    let loginLimiter: PendingLoginLimiter
    /// Where the routes, the middleware and the gateway log (never a secret or token).
    public let logger: Logger

    public init(
        client: OAuthClient,
        store: SessionStore,
        settings: AuthSettings,
        logger: Logger = Logger(label: "gatehouse.auth")
    ) {
        self.client = client
        self.store = store
        self.settings = settings
        self.cookies = AuthCookies(secure: settings.cookieSecure)
        self.refresher = TokenRefresher(store: store, client: client, leeway: settings.refreshLeeway, logger: logger)
        self.logoutReplayCache = ReplayCache()
        self.loginLimiter = PendingLoginLimiter(limits: settings.pendingLimits)
        self.logger = logger
    }

    /// The provider name stored with sessions and pending logins.
    var providerName: String { client.provider.name }

    /// The session for `request`'s cookie, with its access token refreshed when it is about
    /// to expire; `nil` when there is no cookie, the cookie is malformed, or the session is
    /// unknown, expired or ended by a failed refresh.
    ///
    /// - Throws: ``SessionUnavailable`` when the store cannot be read, or when a needed access
    ///   token has expired and cannot be refreshed (the session is kept in both cases).
    public func session(for request: Request) async throws -> Session? {
        guard let value = request.cookies[cookies.sessionName]?.value, !value.isEmpty else { return nil }
        guard let id = SessionID(cookieValue: value) else {
            logger.debug("malformed session cookie ignored")
            return nil
        }
        let loaded: Session?
        do {
            loaded = try await store.load(id)
        } catch {
            logger.error("session store unavailable", metadata: ["error": "\(Self.errorCode(error))"])
            throw SessionUnavailable(.storeUnavailable)
        }
        guard let session = loaded else { return nil }
        return try await refreshedIfDue(session)
    }

    /// The session for a session cookie's value when nothing about it needs a database or
    /// the IdP: cached, fresh, no idle-deadline write and no refresh due
    /// (``SessionStore/settledSession(hash:)``). `nil` means "call ``session(for:)``", not
    /// "signed out". Never blocks: for a proxy's event loop.
    public func settledSession(cookieValue: Substring) -> Session? {
        guard let id = SessionID(cookieValue: String(cookieValue)), let session = store.settledSession(hash: id.hash),
            !refresher.needsRefresh(session)
        else { return nil }
        return session
    }

    /// Looks up the session once per request: reuses what ``SessionMiddleware`` found.
    public func session<Context: SessionRequestContext>(for request: Request, context: inout Context) async throws
        -> Session?
    {
        if context.auth.checked { return context.auth.session }
        let session = try await session(for: request)
        context.auth = AuthState(session: session, checked: true)
        return session
    }

    /// A short, secret-free description of an error for logs.
    static func errorCode(_ error: any Error) -> String {
        switch error {
        case let error as OAuthError: error.code.rawValue
        case let error as StoreError: error.shortCode
        default: String(describing: type(of: error))
        }
    }
}
