import AsyncHTTPClient
import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import GatehouseTestSupport
import Logging
import ServiceLifecycle
import Synchronization

/// A development IdP running on `127.0.0.1:0` for one test, with three clients: `rs-client`
/// (confidential, RS256), `es-client` (confidential, ES256) and `public-client` (no secret).
struct IdPFixture: Sendable {
    static let redirectURI = "http://127.0.0.1:9/callback"
    static let postLogoutURI = "http://127.0.0.1:9/signed-out"

    let idp: IdentityProvider
    let issuer: String

    static func clients(backchannelLogoutURI: String? = nil) -> [RegisteredClient] {
        [
            RegisteredClient(
                id: "rs-client", secret: "rs-secret", redirectURIs: [redirectURI], postLogoutRedirectURIs: [postLogoutURI],
                backchannelLogoutURI: backchannelLogoutURI),
            RegisteredClient(
                id: "es-client", secret: "es-secret", redirectURIs: [redirectURI], idTokenAlgorithm: .es256),
            RegisteredClient(id: "public-client", secret: nil, redirectURIs: [redirectURI]),
        ]
    }

    /// Runs `body` against a fresh IdP; the server stops afterwards.
    static func with<T: Sendable>(
        clock: ManualClock? = nil,
        configure: (inout IdentityProvider.Configuration) -> Void = { _ in },
        _ body: @Sendable (IdPFixture) async throws -> T
    ) async throws -> T {
        var configuration = IdentityProvider.Configuration()
        configuration.port = 0
        configuration.clients = clients()
        configure(&configuration)
        let now: @Sendable () -> Date
        if let clock {
            now = { clock.now }
        } else {
            now = { Date() }
        }
        let idp = try IdentityProvider(
            configuration: configuration, clock: now, backchannelLogout: Self.sender, logger: Logger(label: "test.dev-idp"))
        return try await TestIdentityProvider.withRunning(idp, logger: Logger(label: "test.dev-idp")) { running in
            try await body(IdPFixture(idp: running.provider, issuer: running.issuer))
        }
    }

    /// Logout tokens POSTed with the tests' HTTP client.
    static let sender = BackchannelLogoutSender { url, body in
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(Array(body.utf8))
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }

    /// Our relying-party client for `clientID`, with JWKS refetches unthrottled (key rotation).
    func client(
        _ clientID: String = "rs-client", authentication: ClientAuthentication? = nil
    ) throws -> OAuthClient {
        let secrets = ["rs-client": "rs-secret", "es-client": "es-secret"]
        let auth = authentication ?? secrets[clientID].map { .clientSecretBasic($0) } ?? ClientAuthentication.none
        var configuration = OAuthClient.Configuration(
            clientID: clientID, authentication: auth, redirectURI: Self.redirectURI,
            scopes: ["openid", "email", "profile"])
        configuration.keysMinimumRefetchInterval = .zero
        return try OAuthClient(provider: .oidc(issuer: issuer), configuration: configuration)
    }

    /// Signs `username` in through the login form and exchanges the code.
    func logIn(
        _ client: OAuthClient, username: String = "alice", password: String? = nil, browser: TestBrowser = TestBrowser()
    ) async throws -> LoginResult {
        let request = try await client.authorizationRequest()
        let callback = try await browser.signIn(at: request.url, username: username, password: password ?? username)
        return try await client.exchange(
            CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending)
    }

    /// Signs in and returns the code and the pending authorization, without exchanging.
    func code(
        _ client: OAuthClient, username: String = "alice"
    ) async throws -> (code: String, pending: PendingAuthorization) {
        let request = try await client.authorizationRequest()
        let callback = try await TestBrowser().signIn(at: request.url, username: username, password: username)
        guard let code = TestBrowser.query(callback)["code"] else { throw TestBrowser.Failure("no code in \(callback)") }
        return (code, request.pending)
    }

    /// A raw token request without Basic authentication (the form carries the client's
    /// credentials); the status and the JSON answer.
    func assertionTokenRequest(_ form: [(String, String)]) async throws -> (status: Int, json: [String: String]) {
        var request = HTTPClientRequest(url: issuer + "/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(Array(TestBrowser.encode(form).utf8))
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object.compactMapValues { $0 as? String })
    }

    /// A raw token request with Basic authentication; the status and the JSON answer.
    func tokenRequest(
        _ form: [(String, String)], clientID: String = "rs-client", secret: String = "rs-secret"
    ) async throws -> (status: Int, json: [String: String]) {
        var request = HTTPClientRequest(url: issuer + "/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString())
        request.body = .bytes(Array(TestBrowser.encode(form).utf8))
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object.compactMapValues { $0 as? String })
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current = Mutex(Date())

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 += seconds }
    }
}
