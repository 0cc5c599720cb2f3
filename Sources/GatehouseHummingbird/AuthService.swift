import Foundation
public import GatehouseOAuth
public import GatehouseStore
public import Hummingbird
public import Logging

/// Everything the `/oauth2/*` routes and the session middleware share: the identity providers
/// (each with its OAuth client and token refresher), the session store and the settings.
/// Create one per application.
///
/// ```swift
/// let auth = AuthService(client: client, store: store, settings: AuthSettings(publicURL: url))
/// let router = Router(context: GatehouseRequestContext.self)
/// router.add(middleware: SessionMiddleware(auth))
/// OAuthRoutes(auth).register(on: router)
/// router.group("app").add(middleware: LoginRequiredMiddleware()).get { … }
/// ```
public final class AuthService: Sendable {
    /// What a login for a return path must achieve (providers, step-up level), asked with the
    /// `/oauth2/start` request and its client's address. The gateway answers with the route
    /// the path leads to.
    public typealias RequirementsPolicy =
        @Sendable (_ request: Request, _ peerIP: String?, _ returnPath: String) -> LoginRequirements

    /// The providers, in the order the chooser page lists them; never empty.
    public let providers: [LoginProvider]
    public let store: SessionStore
    public let settings: AuthSettings
    public let cookies: AuthCookies
    let loginRequirements: RequirementsPolicy
    /// The index of each provider id in ``providers`` and ``refreshers``.
    private let providerIndex: [String: Int]
    /// One per provider: a refresh goes to the provider the session came from.
    private let refreshers: [TokenRefresher]
    /// The `jti`s of accepted back-channel logout tokens (one cache per application).
    public let logoutReplayCache: ReplayCache
    /// Caps on logins in flight (``AuthSettings/pendingLimits``).
    let loginLimiter: PendingLoginLimiter
    /// Where the routes, the middleware and the gateway log (never a secret or token).
    public let logger: Logger

    /// An application with one provider, ``LoginProvider/defaultID``, whose callback is
    /// `/oauth2/callback`.
    public convenience init(
        client: OAuthClient,
        store: SessionStore,
        settings: AuthSettings,
        logger: Logger = Logger(label: "gatehouse.auth")
    ) {
        self.init(
            checkedProviders: [LoginProvider(unchecked: LoginProvider.defaultID, name: client.provider.name, client: client)],
            store: store, settings: settings, loginRequirements: { _, _, _ in .none }, logger: logger)
    }

    /// An application whose users sign in with any of `providers` (the first is the default
    /// for bearer tokens and readiness); `loginRequirements` narrows them per return path and
    /// asks for step-up.
    ///
    /// - Throws: ``LoginProviderError`` for an empty list or a repeated id.
    public convenience init(
        providers: [LoginProvider],
        store: SessionStore,
        settings: AuthSettings,
        loginRequirements: @escaping RequirementsPolicy = { _, _, _ in .none },
        logger: Logger = Logger(label: "gatehouse.auth")
    ) throws(LoginProviderError) {
        guard !providers.isEmpty else { throw LoginProviderError("at least one provider is needed") }
        var seen: Set<String> = []
        for provider in providers where !seen.insert(provider.id).inserted {
            throw LoginProviderError("provider id \(provider.id) is used twice")
        }
        self.init(
            checkedProviders: providers, store: store, settings: settings, loginRequirements: loginRequirements,
            logger: logger)
    }

    private init(
        checkedProviders providers: [LoginProvider], store: SessionStore, settings: AuthSettings,
        loginRequirements: @escaping RequirementsPolicy, logger: Logger
    ) {
        self.providers = providers
        self.providerIndex = Dictionary(uniqueKeysWithValues: providers.enumerated().map { ($1.id, $0) })
        self.refreshers = providers.map {
            TokenRefresher(store: store, client: $0.client, leeway: settings.refreshLeeway, logger: logger)
        }
        self.store = store
        self.settings = settings
        self.loginRequirements = loginRequirements
        self.cookies = AuthCookies(secure: settings.cookieSecure, domain: settings.cookieDomain)
        self.logoutReplayCache = ReplayCache()
        self.loginLimiter = PendingLoginLimiter(limits: settings.pendingLimits)
        self.logger = logger
    }

    /// The first provider's client (bearer tokens, readiness).
    public var client: OAuthClient { providers[0].client }

    /// The provider with this id, if configured.
    public func provider(id: String) -> LoginProvider? {
        providerIndex[id].map { providers[$0] }
    }

    /// The refresher of the provider a session came from; `nil` when that provider is no
    /// longer configured.
    func refresher(for session: Session) -> TokenRefresher? {
        // One provider (the usual case): a string comparison, no dictionary lookup.
        if refreshers.count == 1 { return session.provider == providers[0].id ? refreshers[0] : nil }
        return providerIndex[session.provider].map { refreshers[$0] }
    }

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
            let refresher = refresher(for: session), !refresher.needsRefresh(session)
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
    package static func errorCode(_ error: any Error) -> String {
        switch error {
        case let error as OAuthError: error.code.rawValue
        case let error as StoreError: error.shortCode
        default: String(describing: type(of: error))
        }
    }
}
