extension IdentityProvider {
    /// How the development IdP runs. Every field states its default.
    public struct Configuration: Sendable {
        /// Listen address. Default `127.0.0.1`; anything not loopback is refused unless
        /// ``forceNonLoopback`` is set.
        public var host: String = "127.0.0.1"
        /// Listen port. Default `4181`; `0` picks a free port.
        public var port: Int = 4181
        /// The issuer identifier, without a trailing slash. Default: `http://HOST:PORT` with the
        /// bound port (so port 0 works).
        public var issuer: String?
        /// Who can sign in. Default ``TestUser/defaults`` (alice and bob).
        public var users: [TestUser] = TestUser.defaults
        /// The relying parties. Default: ``RegisteredClient/gatewayDefault``.
        public var clients: [RegisteredClient] = [.gatewayDefault]
        /// Access token lifetime. Default 300 seconds.
        public var accessTokenLifetime: Duration = .seconds(300)
        /// ID token lifetime. Default 300 seconds.
        public var idTokenLifetime: Duration = .seconds(300)
        /// Refresh token lifetime (each rotation starts a new one). Default 8 hours.
        public var refreshTokenLifetime: Duration = .seconds(8 * 3600)
        /// Authorization code lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes).
        /// Default 60 seconds.
        public var codeLifetime: Duration = .seconds(60)
        /// How long a sign-in at the IdP lasts (its SSO session). Default 8 hours.
        public var sessionLifetime: Duration = .seconds(8 * 3600)
        /// Allow a non-loopback listen address. Default `false`: this IdP has test passwords.
        public var forceNonLoopback = false
        /// Show the test users and their passwords on the login page. Default `true`.
        public var showTestUsers = true

        public init() {}

        /// Throws when the settings cannot work (non-loopback address without the opt-out,
        /// duplicate users or clients, non-positive lifetimes).
        public func validate() throws {
            if !forceNonLoopback, !Loopback.isLoopback(host: host) {
                throw DevIdPError(
                    "refusing to listen on \(host): the development IdP listens on loopback only "
                        + "(pass --force-non-loopback if you really mean it; never in production)")
            }
            try TestUser.validate(users)
            guard Set(clients.map(\.id)).count == clients.count else {
                throw DevIdPError("client ids must be unique")
            }
            for lifetime in [accessTokenLifetime, idTokenLifetime, refreshTokenLifetime, codeLifetime, sessionLifetime]
            where lifetime <= .zero {
                throw DevIdPError("token, code and session lifetimes must be positive")
            }
        }
    }
}
