import Foundation
import GatehouseOAuth
import Hummingbird
import Logging
import Synchronization
import Testing

/// A small identity provider on `127.0.0.1:0` whose discovery document, JWKS and token
/// endpoint answers each test scripts — including the wrong, slow, huge and malicious ones.
/// It counts requests per path and records every token request for wire-format assertions.
///
/// Use it through ``with(_:)``, which starts it, runs the test and shuts it down.
final class HostileIdP: Sendable {
    /// One scripted answer.
    struct Reply: Sendable {
        var status: Int = 200
        var contentType: String? = "application/json"
        var body: [UInt8]
        /// `WWW-Authenticate`, as RFC 6749 §5.2 asks with a 401.
        var wwwAuthenticate: String?
        /// `Location`, for a redirect.
        var location: String?
        /// Wait this long before answering (ended early when the IdP shuts down).
        var delay: Duration?
        /// Stream the body without a `Content-Length`.
        var chunked = false

        static func json(_ value: JSONValue, status: Int = 200) -> Reply {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Reply(status: status, body: Array((try? encoder.encode(value)) ?? Data()))
        }

        static func raw(_ text: String, contentType: String? = "application/json", status: Int = 200) -> Reply {
            Reply(status: status, contentType: contentType, body: Array(text.utf8))
        }

        /// A well-formed RFC 6749 §5.1 success with an optional `id_token`.
        static func tokens(accessToken: String = HostileIdP.accessToken, idToken: String?) -> Reply {
            var fields: [String: JSONValue] = [
                "access_token": .string(accessToken), "token_type": .string("Bearer"), "expires_in": .number(3600),
            ]
            if let idToken { fields["id_token"] = .string(idToken) }
            return .json(.object(fields))
        }

        /// An RFC 6749 §5.2 error response.
        static func oauthError(_ error: String, description: String? = nil, status: Int = 400) -> Reply {
            var fields: [String: JSONValue] = ["error": .string(error)]
            if let description { fields["error_description"] = .string(description) }
            return .json(.object(fields), status: status)
        }
    }

    /// A request as the IdP received it.
    struct RecordedRequest: Sendable {
        var method: String
        var path: String
        /// Header names lower-cased.
        var headers: [String: String]
        var body: String

        /// The body as form pairs, in order (`nil` if it is not valid form encoding).
        var form: [(String, String)]? {
            var pairs: [(String, String)] = []
            for part in body.split(separator: "&") {
                let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = Self.unescape(pieces[0]),
                    let value = Self.unescape(pieces.count > 1 ? pieces[1] : "")
                else { return nil }
                pairs.append((key, value))
            }
            return pairs
        }

        /// The single value of a form field.
        func formValue(_ name: String) -> String? {
            form?.first { $0.0 == name }?.1
        }

        private static func unescape(_ text: Substring) -> String? {
            text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
    }

    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let current: Mutex<Date>
        init(_ start: Date = HostileIdP.now) { current = Mutex(start) }
        var now: Date { current.withLock { $0 } }
        func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
        var wallClock: WallClock { WallClock { [self] in self.now } }
    }

    // MARK: Fixed test values

    static let clientID = "gatehouse-test"
    static let clientSecret = "s3cret-value-never-logged"
    static let redirectURI = "https://rp.example/callback"
    static let nonce = "nonce-7f3a9c"
    static let state = "state-52b1e0"
    static let code = "code-authz-91d2"
    static let codeVerifier = "verifier-0123456789-0123456789-0123456789-abcdef"
    static let accessToken = "at-5d2c8e1f"
    /// 2030-03-17: far from the real date, so nothing passes by accident of the system clock.
    static let now = Date(timeIntervalSince1970: 1_900_000_000)

    static var pending: PendingAuthorization {
        PendingAuthorization(
            state: state, nonce: nonce, codeVerifier: codeVerifier, redirectURI: redirectURI, createdAt: now)
    }

    // MARK: State

    private struct State {
        var port = 0
        var discovery: Reply?
        var discoveryOverrides: [String: JSONValue] = [:]
        var jwks: Reply = .json(TestKeys.jwks([]))
        var attackerJWKS: Reply = .json(TestKeys.jwks([]))
        var token: Reply = .oauthError("invalid_request", description: "no token reply scripted")
        var userInfo: Reply = .raw("not found", contentType: "text/plain", status: 404)
        var hits: [String: Int] = [:]
        var requests: [RecordedRequest] = []
        var closed = false
    }

    private let state = Mutex(State())

    /// `http://127.0.0.1:<port>`: the issuer identifier and the base of every endpoint.
    var issuer: String { "http://127.0.0.1:\(state.withLock { $0.port })" }

    /// Replaces the whole discovery answer.
    func setDiscovery(_ reply: Reply) { state.withLock { $0.discovery = reply } }
    /// Changes fields of the default discovery document (for example `issuer`).
    func overrideDiscovery(_ fields: [String: JSONValue]) {
        state.withLock { $0.discoveryOverrides.merge(fields) { _, new in new } }
    }
    func setJWKS(_ reply: Reply) { state.withLock { $0.jwks = reply } }
    /// Publishes these JWKs.
    func publish(_ keys: [JSONValue]) { setJWKS(.json(TestKeys.jwks(keys))) }
    /// Publishes these keys' public JWKs (without `alg`).
    func publish(_ keys: TestKey...) { publish(keys.map { $0.publicJWK() }) }
    func setToken(_ reply: Reply) { state.withLock { $0.token = reply } }

    func setUserInfo(_ reply: Reply) { state.withLock { $0.userInfo = reply } }
    /// What `/attacker/jwks` serves: keys no client may trust (a `jku` target).
    func setAttackerJWKS(_ reply: Reply) { state.withLock { $0.attackerJWKS = reply } }

    /// How many requests reached `path`.
    func hits(_ path: String) -> Int { state.withLock { $0.hits[path] ?? 0 } }
    var jwksHits: Int { hits("/jwks") }
    /// The last request to the token endpoint.
    var lastTokenRequest: RecordedRequest? { state.withLock { $0.requests.last { $0.path == "/token" } } }

    // MARK: Client

    /// An `OAuthClient` for this IdP with a manual clock; `configure` changes the defaults
    /// (client secret basic, 5 s timeout).
    func client(
        clock: WallClock = WallClock { HostileIdP.now },
        configure: (inout OAuthClient.Configuration) -> Void = { _ in }
    ) throws(OAuthError) -> OAuthClient {
        var configuration = OAuthClient.Configuration(
            clientID: Self.clientID, authentication: .clientSecretBasic(Self.clientSecret), redirectURI: Self.redirectURI)
        configuration.timeout = .seconds(5)
        configure(&configuration)
        return try OAuthClient(provider: .oidc(issuer: issuer), configuration: configuration, clock: clock)
    }

    /// The callback the IdP would send the browser to after a successful login.
    var callback: CallbackParameters {
        CallbackParameters(code: Self.code, state: Self.state, issuer: issuer)
    }

    /// Completes a login whose token endpoint answers with `idToken` (and `accessToken`).
    func login(
        idToken: String,
        accessToken: String = HostileIdP.accessToken,
        clock: WallClock = WallClock { HostileIdP.now },
        configure: (inout OAuthClient.Configuration) -> Void = { _ in }
    ) async throws(OAuthError) -> LoginResult {
        setToken(.tokens(accessToken: accessToken, idToken: idToken))
        return try await client(clock: clock, configure: configure).exchange(callback, pending: Self.pending)
    }

    // MARK: Serving

    private func reply(for request: Request) async -> Response {
        var request = request
        let path = request.uri.path
        let body = (try? await request.collectBody(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] = field.value
        }
        let recorded = RecordedRequest(method: request.method.rawValue, path: path, headers: headers, body: body)
        let reply = state.withLock { state -> Reply in
            state.hits[path, default: 0] += 1
            state.requests.append(recorded)
            switch path {
            case "/.well-known/openid-configuration":
                if let discovery = state.discovery { return discovery }
                let base = "http://127.0.0.1:\(state.port)"
                var document = Self.discoveryTemplate(base: base)
                document.merge(state.discoveryOverrides) { _, new in new }
                return .json(.object(document))
            case "/jwks": return state.jwks
            case "/attacker/jwks": return state.attackerJWKS
            case "/token": return state.token
            case "/userinfo": return state.userInfo
            default: return .raw("not found", contentType: "text/plain", status: 404)
            }
        }
        if let delay = reply.delay {
            let deadline = ContinuousClock.now + delay
            while ContinuousClock.now < deadline, !state.withLock({ $0.closed }) {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        var fields = HTTPFields()
        if let contentType = reply.contentType { fields[.contentType] = contentType }
        if let challenge = reply.wwwAuthenticate { fields[.wwwAuthenticate] = challenge }
        if let location = reply.location { fields[.location] = location }
        let buffer = ByteBuffer(bytes: reply.body)
        if reply.chunked {
            let body = ResponseBody { writer in
                var remaining = buffer
                while let chunk = remaining.readSlice(length: min(1024, remaining.readableBytes)), chunk.readableBytes > 0 {
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            }
            return Response(status: .init(code: reply.status), headers: fields, body: body)
        }
        return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: buffer))
    }

    private static func discoveryTemplate(base: String) -> [String: JSONValue] {
        [
            "issuer": .string(base),
            "authorization_endpoint": .string(base + "/authorize"),
            "token_endpoint": .string(base + "/token"),
            "jwks_uri": .string(base + "/jwks"),
            "userinfo_endpoint": .string(base + "/userinfo"),
            "response_types_supported": TestKeys.strings(["code"]),
            "subject_types_supported": TestKeys.strings(["public"]),
            "id_token_signing_alg_values_supported": TestKeys.strings(["RS256", "RS384", "PS256", "ES256", "EdDSA"]),
            "token_endpoint_auth_methods_supported": TestKeys.strings([
                "client_secret_basic", "client_secret_post", "private_key_jwt",
            ]),
        ]
    }

    /// Starts an IdP on `127.0.0.1:0`, runs `body` with it, and shuts it down.
    @discardableResult
    static func with<T>(_ body: (HostileIdP) async throws -> T) async throws -> T {
        let idp = HostileIdP()
        let router = Router()
        router.get("/.well-known/openid-configuration") { request, _ in await idp.reply(for: request) }
        router.get("/jwks") { request, _ in await idp.reply(for: request) }
        router.get("/attacker/jwks") { request, _ in await idp.reply(for: request) }
        router.post("/token") { request, _ in await idp.reply(for: request) }
        router.get("/userinfo") { request, _ in await idp.reply(for: request) }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "hostile-idp")
        logger.logLevel = .critical  // cancellation at shutdown logs errors
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer {
                idp.state.withLock { $0.closed = true }
                group.cancelAll()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port != 0 else {
                throw TestKeys.Failure("the hostile IdP did not start")
            }
            idp.state.withLock { $0.port = port }
            return try await body(idp)
        }
    }
}

/// Runs `body` and checks it fails with exactly `code`; returns the error for further checks.
@discardableResult
func expectRejection<T>(
    _ code: OAuthError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async -> OAuthError? {
    do {
        _ = try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as OAuthError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code), got a non-OAuth error: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
