/// How the `/oauth2/*` routes and the session middleware behave.
public struct AuthSettings: Sendable {
    /// The external base URL without a trailing slash (`https://app.example`). The callback is
    /// this plus `/oauth2/callback`; a sign-out `Origin` must equal its origin.
    public var publicURL: String
    /// Mark cookies `Secure` and name the session cookie `__Host-gatehouse`. Default `true`.
    public var cookieSecure: Bool
    /// Who may sign in. Default: anyone the IdP authenticates.
    public var rules: AccessRules
    /// The most logins a browser may have in flight at once (one binding cookie each).
    /// Default 8.
    public var maxLoginsInFlight: Int
    /// How long a login may take between `/oauth2/start` and the callback (the binding
    /// cookie's lifetime). Default 10 minutes, as the pending authorization.
    public var loginLifetime: Duration
    /// A browser that starts this many sign-ins within ``loopWindow`` is in a redirect loop and
    /// gets a diagnostic page instead of another trip to the IdP. Default 12; never below
    /// ``maxLoginsInFlight`` + 2, so that many tabs signing in at once are not mistaken for a loop.
    public var loopThreshold: Int
    /// See ``loopThreshold``. Default 2 minutes.
    public var loopWindow: Duration
    /// Refresh the access token when it expires within this. Default 60 seconds.
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

    public init(
        publicURL: String,
        cookieSecure: Bool = true,
        rules: AccessRules = AccessRules(),
        maxLoginsInFlight: Int = 8,
        loginLifetime: Duration = .seconds(600),
        loopThreshold: Int = 12,
        loopWindow: Duration = .seconds(120),
        refreshLeeway: Duration = .seconds(60),
        postLogoutRedirectURI: String? = nil,
        endIdPSession: Bool = true,
        accessTokenRequired: Bool = false
    ) {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicURL = base
        self.cookieSecure = cookieSecure
        self.rules = rules
        self.maxLoginsInFlight = max(1, maxLoginsInFlight)
        self.loginLifetime = loginLifetime
        self.loopThreshold = max(loopThreshold, self.maxLoginsInFlight + 2)
        self.loopWindow = loopWindow
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

    /// The redirect URI registered at the IdP.
    public var redirectURI: String { publicURL + "/oauth2/callback" }
}
