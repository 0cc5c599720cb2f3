/// How the `/oauth2/*` routes and the session middleware behave.
public struct AuthSettings: Sendable {
    /// The external base URL without a trailing slash (`https://app.example`). The callback is
    /// this plus `/oauth2/callback`; a sign-out `Origin` must equal its origin.
    public var publicURL: String
    /// Mark cookies `Secure` and name the session cookie `__Host-gatehouse`. Default `true`.
    public var cookieSecure: Bool
    /// Who may sign in. Default: anyone the IdP authenticates.
    public var rules: AccessRules
    /// The most logins a browser may have in flight at once (one binding cookie each, about
    /// 100 bytes in its `Cookie` header). A start beyond it gives up the browser's oldest login
    /// (its pending authorization and cookie) instead of refusing, so a browser restoring many
    /// tabs at once is still sent to the IdP. Default 32 (about 3 KiB of cookies).
    public var maxLoginsInFlight: Int
    /// Caps on logins in flight across all browsers (pending authorizations in the store).
    public var pendingLimits: PendingLoginLimits
    /// How long a login may take between `/oauth2/start` and the callback (the binding
    /// cookie's lifetime). Default 10 minutes, as the pending authorization.
    public var loginLifetime: Duration
    /// A browser that comes back to `/oauth2/start` right after completing a sign-in this many
    /// times within ``loopWindow`` is in a redirect loop and gets a diagnostic page instead of
    /// another trip to the IdP (see `LoginLoopGuard`). Parallel starts never count. Default 11.
    public var loopThreshold: Int
    /// See ``loopThreshold``. Default 2 minutes.
    public var loopWindow: Duration
    /// How soon after a completed sign-in a start counts as bouncing back. Default 30 seconds.
    public var loopBounceInterval: Duration
    /// Refresh the access token when it expires within this, but never before half its
    /// lifetime has passed (a short-lived token is not due the moment it is issued). Default
    /// 60 seconds.
    public var refreshLeeway: Duration
    /// `post_logout_redirect_uri` at the IdP's end-session endpoint. Default: the public URL
    /// plus `/`.
    public var postLogoutRedirectURI: String?
    /// Send the browser to the IdP's `end_session_endpoint` after sign-out. Default `true`.
    public var endIdPSession: Bool
    /// Requests need a valid access token (an app calling APIs on the user's behalf; the
    /// gateway with `GATEHOUSE_PASS_ACCESS_TOKEN`). When the token has expired and cannot be
    /// refreshed because the IdP fails, such a request gets ``SessionUnavailable`` (`503
    /// token_refresh_failed`) instead of going on with an expired token. When `false`, it goes
    /// on (the session, not the token, is what signs the user in). Default `false`.
    public var accessTokenRequired: Bool
    /// A header that `/oauth2/userinfo` requires with the value `1` (`X-CSRF`, as Duende BFF):
    /// a page of another site cannot send a custom header without a CORS preflight, so a
    /// front end's own `fetch` passes and a cross-site read does not. Default `nil`: not required.
    public var csrfHeader: String?
    /// The session cookie's `Domain` (`example.com`), so that one sign-in serves several hosts
    /// under it; the cookie is then `__Secure-gatehouse` instead of `__Host-gatehouse`. Logins
    /// still start and finish on ``publicURL``'s host. Default `nil`: a host-only cookie.
    public var cookieDomain: String?
    /// With ``cookieDomain``: the other hosts (`app.example.com`, with `:port` when it matters)
    /// whose pages a login may return to (`rd` as an absolute URL) and whose pages may sign out.
    /// Default none.
    public var signInHosts: [String]

    public init(
        publicURL: String,
        cookieSecure: Bool = true,
        rules: AccessRules = AccessRules(),
        maxLoginsInFlight: Int = 32,
        pendingLimits: PendingLoginLimits = PendingLoginLimits(),
        loginLifetime: Duration = .seconds(600),
        loopThreshold: Int = 11,
        loopWindow: Duration = .seconds(120),
        loopBounceInterval: Duration = .seconds(30),
        refreshLeeway: Duration = .seconds(60),
        postLogoutRedirectURI: String? = nil,
        endIdPSession: Bool = true,
        accessTokenRequired: Bool = false,
        csrfHeader: String? = nil,
        cookieDomain: String? = nil,
        signInHosts: [String] = []
    ) {
        self.csrfHeader = csrfHeader
        self.cookieDomain = cookieDomain?.lowercased()
        self.signInHosts = cookieDomain == nil ? [] : signInHosts.map { $0.lowercased() }
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicURL = base
        self.cookieSecure = cookieSecure
        self.rules = rules
        self.maxLoginsInFlight = max(1, maxLoginsInFlight)
        self.pendingLimits = pendingLimits
        self.loginLifetime = loginLifetime
        self.loopThreshold = max(1, loopThreshold)
        self.loopWindow = loopWindow
        self.loopBounceInterval = loopBounceInterval
        self.refreshLeeway = refreshLeeway
        self.postLogoutRedirectURI = postLogoutRedirectURI
        self.endIdPSession = endIdPSession
        self.accessTokenRequired = accessTokenRequired
    }

    /// The origin of ``publicURL`` (`scheme://host[:port]`), lower-cased, as browsers send it
    /// in `Origin`.
    public var publicOrigin: String {
        let lowered = publicURL.lowercased()
        guard let schemeEnd = lowered.range(of: "://") else { return lowered }
        let rest = lowered[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(lowered[..<schemeEnd.upperBound]) + authority
    }

    /// The scheme of ``publicURL`` (`https` or `http`), lower case.
    public var publicScheme: String {
        String(publicOrigin.prefix { $0 != ":" })
    }

    /// Whether `origin` (lower case, as browsers send it) is one our own pages have:
    /// ``publicOrigin`` or, with ``cookieDomain``, one of ``signInHosts`` with the public URL's
    /// scheme (a sign-out or an unsafe request from them is same-site by design).
    public func isOwnOrigin(_ origin: String) -> Bool {
        if origin == publicOrigin { return true }
        let prefix = publicScheme + "://"
        guard !signInHosts.isEmpty, origin.hasPrefix(prefix) else { return false }
        return ReturnPath.isListed(String(origin.dropFirst(prefix.count)), in: signInHosts)
    }

    /// The redirect URI registered at the IdP.
    public var redirectURI: String { publicURL + "/oauth2/callback" }
}
