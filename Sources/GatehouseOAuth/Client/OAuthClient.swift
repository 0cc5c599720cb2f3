public import AsyncHTTPClient
import Foundation
public import Logging
import JWTKit
import Synchronization

/// An OAuth 2.0 / OpenID Connect relying party for one provider and one client registration.
///
/// The main path is four verbs: ``authorizationRequest(_:)`` → (browser round trip) →
/// ``exchange(_:pending:)`` → ``refresh(_:subject:)`` (or a ``TokenProvider``). Metadata and keys
/// are cached; every call to the IdP has a deadline and a size limit. Safe for concurrent use.
public final class OAuthClient: Sendable {
    public let provider: Provider
    public let configuration: Configuration
    let transport: IdPTransport
    let clock: WallClock
    let logger: Logger
    private let metadataCache: MetadataCache
    private let keyCaches: KeyCacheRegistry
    /// The authorization server's latest DPoP nonce (RFC 9449 §8), sent with the next proof.
    let dpopNonce = Mutex<String?>(nil)
    /// Resource servers' DPoP nonces by origin (``dpopRequest(_:accessToken:key:timeout:)``).
    let resourceNonces = DPoPResourceNonces()

    /// - Parameters:
    ///   - httpClient: the shared client for every IdP call. Default: ``defaultHTTPClient``,
    ///     which does not follow redirects.
    ///   - clock: the source of "now" for every time check. Default: the system clock.
    public init(
        provider: Provider,
        configuration: Configuration,
        httpClient: HTTPClient = OAuthClient.defaultHTTPClient,
        clock: WallClock = .system,
        logger: Logger = Logger(label: "gatehouse.oauth")
    ) throws(OAuthError) {
        guard !configuration.clientID.isEmpty else {
            throw OAuthError(.invalidConfiguration, "the client id is empty")
        }
        _ = try EndpointURL.validate(configuration.redirectURI, name: "redirect URI")
        if let problem = provider.configurationProblem {
            throw OAuthError(.invalidConfiguration, problem)
        }
        let configuration = try configuration.profile?.applied(to: configuration) ?? configuration
        self.provider = provider
        self.configuration = configuration
        self.transport = IdPTransport(
            client: httpClient, timeout: configuration.timeout,
            maxResponseBytes: configuration.maxResponseBytes, userAgent: configuration.userAgent)
        self.clock = clock
        self.logger = logger
        self.metadataCache = MetadataCache(
            source: provider.metadataSource, policy: provider.issuerPolicy, transport: transport,
            refreshInterval: configuration.metadataRefreshInterval, clock: clock, logger: logger)
        self.keyCaches = KeyCacheRegistry()
    }

    /// The provider's metadata (discovered and cached), with the configured overrides applied.
    public func metadata() async throws(OAuthError) -> ProviderMetadata {
        var metadata = try await metadataCache.current()
        let overrides = configuration.endpointOverrides
        if let url = overrides.revocationEndpoint { metadata.revocationEndpoint = url }
        if let url = overrides.userInfoEndpoint { metadata.userInfoEndpoint = url }
        if let url = overrides.endSessionEndpoint { metadata.endSessionEndpoint = url }
        return metadata
    }

    /// The scopes a login asks for.
    var scopes: [String] { configuration.scopes ?? provider.defaultScopes }

    /// The algorithms accepted for ID tokens from this provider.
    func algorithms(for metadata: ProviderMetadata) -> Set<String> {
        if let configured = configuration.algorithms {
            return configured.intersection(KeySet.supportedAlgorithms)
        }
        let advertised = Set(metadata.idTokenSigningAlgValuesSupported ?? ["RS256"])
        // OIDC Discovery §3: RS256 must be supported; anything advertised that we support counts.
        return advertised.union(["RS256"]).intersection(KeySet.supportedAlgorithms)
    }

    /// The key cache for the metadata's `jwks_uri`.
    func keyCache(for metadata: ProviderMetadata) throws(OAuthError) -> JWKSCache {
        guard let jwksURI = metadata.jwksURI else {
            throw OAuthError(.endpointNotSupported, "the provider publishes no jwks_uri")
        }
        return keyCaches.cache(for: jwksURI) {
            JWKSCache(
                transport: transport, url: jwksURI, algorithms: algorithms(for: metadata),
                maxAge: configuration.keysMaxAge, untrustedRefetchInterval: configuration.keysMinimumRefetchInterval,
                clock: clock, logger: logger)
        }
    }

    /// The verifier for a token header's `kid` and `alg` from the provider's JWKS, refetched
    /// when the `kid` is unknown (the IdP may have rotated its keys) as `source` allows: always
    /// for an ID token from the token endpoint, within a shared budget for anything else.
    func signingVerifier(
        keyID: String?, algorithm: String, metadata: ProviderMetadata, source: KeyLookupSource
    ) async throws(OAuthError) -> any JWTAlgorithm {
        try await keyCache(for: metadata).verifier(keyID: keyID, algorithm: algorithm, source: source)
    }

    /// Builds the authorization request URL with fresh `state`, `nonce` and PKCE S256
    /// (RFC 7636 §4.3, OIDC Core §3.1.2.1). Keep the returned ``PendingAuthorization``
    /// server-side; the browser only ever sees the URL.
    public func authorizationRequest(
        _ parameters: AuthorizationParameters = AuthorizationParameters()
    ) async throws(OAuthError) -> AuthorizationRequest {
        let metadata = try await metadata()
        let pkce = PKCE()
        // A login's own DPoP key unless the caller brings one (by its thumbprint).
        let dpopKey = configuration.usesDPoP && parameters.dpopKeyThumbprint == nil ? DPoPKey() : nil
        let pending = PendingAuthorization(
            state: SecureRandom.token(), nonce: SecureRandom.token(), codeVerifier: pkce.verifier,
            redirectURI: configuration.redirectURI, createdAt: clock.now, dpopKey: dpopKey)
        var query: [(String, String?)] = [
            ("response_type", "code"),
            ("client_id", configuration.clientID),
            ("redirect_uri", configuration.redirectURI),
            ("scope", (parameters.scopes ?? scopes).joined(separator: " ")),
            ("state", pending.state),
            ("code_challenge", pkce.challenge),
            ("code_challenge_method", pkce.challengeMethod),
        ]
        if provider.isOpenIDConnect { query.append(("nonce", pending.nonce)) }
        query.append(("prompt", parameters.prompt))
        query.append(("login_hint", parameters.loginHint))
        query.append(("acr_values", parameters.acrValues?.joined(separator: " ")))
        query.append(("max_age", parameters.maxAge.map(String.init)))
        query.append(("audience", parameters.audience))
        query.append(("dpop_jkt", parameters.dpopKeyThumbprint ?? dpopKey?.thumbprint))
        for resource in parameters.resources { query.append(("resource", resource)) }
        for (name, value) in parameters.extra {
            guard !AuthorizationParameters.reservedNames.contains(name) else {
                throw OAuthError(.invalidConfiguration, "the parameter \(name) is set by Gatehouse and cannot be overridden")
            }
            query.append((name, value))
        }
        if configuration.signsRequestObjects {
            guard let signer = configuration.authentication.privateKeyJWT else {
                throw OAuthError(.invalidConfiguration, "signed request objects (JAR) need private_key_jwt client authentication")
            }
            let parameters = query.compactMap { name, value in value.map { (name, $0) } }
            let jwt = try await signer.requestObject(
                parameters, clientID: configuration.clientID, metadata: metadata, now: clock.now)
            // RFC 9101 §5: client_id outside; OpenID Connect also wants response_type and scope.
            query = [
                ("client_id", configuration.clientID), ("request", jwt), ("response_type", "code"),
                ("scope", (parameters.first { $0.0 == "scope" }?.1)),
            ]
        }
        if try usesPushedAuthorization(metadata) {
            // RFC 9126 §4: the browser carries only the client id and the pushed request's handle.
            let requestURI = try await pushAuthorizationRequest(query, metadata: metadata)
            query = [("client_id", configuration.clientID), ("request_uri", requestURI)]
        }
        let endpoint = metadata.authorizationEndpoint
        let separator = endpoint.contains("?") ? "&" : "?"
        guard let url = URL(string: endpoint + separator + FormEncoding.encode(query, spaceAsPlus: false)) else {
            throw OAuthError(.invalidConfiguration, "the authorization endpoint does not form a valid URL")
        }
        return AuthorizationRequest(url: url, pending: pending)
    }
}

extension OAuthClient {
    /// The key ids of the provider's current signing keys (fetched if not cached), for
    /// diagnostics such as `gatehouse discover` and readiness checks.
    public func signingKeyIDs() async throws(OAuthError) -> [String?] {
        let metadata = try await metadata()
        return try await keyCache(for: metadata).current().keyIDs
    }
}
