public import GatehouseOAuth
import Foundation

/// The django-oauth-toolkit instances started by `scripts/test.sh`, and the clients its seed
/// command registers. A missing variable fails the test: interop tests never skip.
public enum DOT {
    public struct Missing: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "\(name) is not set: run the tests with scripts/test.sh, which starts the real IdP" }
    }

    public static func issuer(rotating: Bool = true) throws -> String {
        let name = rotating ? "GATEHOUSE_TEST_IDP_ISSUER" : "GATEHOUSE_TEST_IDP_NOROTATE_ISSUER"
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    /// The second provider of the multi-provider tests: other people (carol, erin), seeded
    /// with `IDP_USERS=partner`.
    public static func partnerIssuer() throws -> String {
        let name = "GATEHOUSE_TEST_IDP_PARTNER_ISSUER"
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    /// The instance reserved for the refresh-counting tests (rotation on), and how many token
    /// requests it has served so far, read from its access log.
    public static func refreshIssuer() throws -> String {
        let name = "GATEHOUSE_TEST_IDP_REFRESH_ISSUER"
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    /// Refresh grant requests only (the IdP logs a marker for each, scripts/idp/idp/validators.py):
    /// logins on the same instance, which other tests make meanwhile, do not count.
    public static func refreshTokenRequests() throws -> Int {
        try refreshInstanceRequests(containing: "gatehouse-idp: refresh_token grant")
    }

    /// How many requests of the refresh instance's access log contain `marker`
    /// (`"GET /o/userinfo/`).
    public static func refreshInstanceRequests(containing marker: String) throws -> Int {
        let name = "GATEHOUSE_TEST_IDP_REFRESH_LOG"
        guard let path = ProcessInfo.processInfo.environment[name], !path.isEmpty else { throw Missing(name: name) }
        let log = try String(contentsOfFile: path, encoding: .utf8)
        return log.components(separatedBy: "\n").filter { $0.contains(marker) }.count
    }

    /// How many token requests the refresh instance served since `baseline`, once its access
    /// log has settled (Django writes the line just after answering): waits up to 3 s for the
    /// first new line, then half a second for any stragglers.
    public static func refreshTokenRequests(since baseline: Int) async throws -> Int {
        for _ in 0..<30 where try refreshTokenRequests() == baseline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
        return try refreshTokenRequests() - baseline
    }

    /// The refresh instance's token-request count once no new line has appeared for 300 ms.
    public static func settledRefreshTokenRequests() async throws -> Int {
        var count = try refreshTokenRequests()
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(300))
            let next = try refreshTokenRequests()
            if next == count { return count }
            count = next
        }
        return count
    }

    public static let redirectURI = "http://127.0.0.1:4180/oauth2/callback"
    public static let postLogoutRedirectURI = "http://127.0.0.1:4180/"
    public static let confidentialClient = "gatehouse-test"
    public static let consentClient = "gatehouse-consent"
    public static let publicClient = "gatehouse-public"
    public static let serviceClient = "gatehouse-service"
    /// Its ID tokens carry no profile, email or group claims: only userinfo has them.
    public static let thinClient = "gatehouse-thin"
    public static let secret = "gatehouse-test-secret"
    public static let serviceSecret = "gatehouse-service-secret"

    /// An `OAuthClient` for one of the seeded clients.
    public static func client(
        _ clientID: String = confidentialClient,
        authentication: ClientAuthentication = .clientSecretBasic(secret),
        rotating: Bool = true,
        issuer fixedIssuer: String? = nil,
        scopes: [String] = ["openid", "email", "profile", "groups"],
        clock: WallClock = .system
    ) throws -> OAuthClient {
        let issuer = try fixedIssuer ?? issuer(rotating: rotating)
        var configuration = OAuthClient.Configuration(
            clientID: clientID, authentication: authentication, redirectURI: redirectURI, scopes: scopes)
        // DOT serves RFC 7009 revocation but lists it only in its RFC 8414 document.
        configuration.endpointOverrides.revocationEndpoint = issuer + "/revoke_token/"
        configuration.timeout = .seconds(15)
        return try OAuthClient(provider: .oidc(issuer: issuer), configuration: configuration, clock: clock)
    }
}

extension DOT {
    /// A complete login as `username` through the IdP's real login form.
    public static func login(
        _ client: OAuthClient, username: String = "alice", password: String = "alice-password-1"
    ) async throws -> LoginResult {
        let request = try await client.authorizationRequest()
        let callbackURL = try await DOTBrowser().signIn(startingAt: request.url, username: username, password: password)
        let query = URLComponents(url: callbackURL, resolvingAgainstBaseURL: false)?.percentEncodedQuery ?? ""
        return try await client.exchange(try CallbackParameters(query: Substring(query)), pending: request.pending)
    }
}
