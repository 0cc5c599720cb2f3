/// A security profile a client holds itself to: settings it forces, settings it refuses, and
/// what it demands of the provider.
public enum SecurityProfile: String, Sendable, Hashable, CaseIterable {
    /// The FAPI 2.0 Security Profile (OpenID Foundation, final 2025), for a confidential
    /// client: pushed authorization requests (§5.3.2.2), PKCE S256 (always on in Gatehouse),
    /// `private_key_jwt` signed with PS256 or ES256 (§5.3.2.1, §5.4.1: no RS256, no client
    /// secrets), sender-constrained tokens by DPoP (§5.3.2.1), the RFC 9207 `iss` required in
    /// every authorization response (§5.3.2.2), and ID tokens signed with PS256 or ES256 only.
    /// Tokens that come back unbound are refused (``OAuthError/Code/dpopNotBound``), so the
    /// profile's 10-minute limit on unconstrained access tokens never applies.
    case fapi2

    /// The signature algorithms FAPI 2.0 allows (§5.4.1; EdDSA is not supported here).
    public static let fapi2Algorithms: Set<String> = ["PS256", "ES256"]

    /// `configuration` as the profile requires it: PAR always, DPoP on, the RFC 9207 `iss`
    /// required, ID tokens in the profile's algorithms only.
    ///
    /// - Throws: ``OAuthError/Code/invalidConfiguration`` naming the first setting the profile
    ///   forbids: another client authentication than `private_key_jwt`, a client key that
    ///   signs RS256 (use ``ClientSigningKey/usingPSS()``), PAR set to `never`, or ID-token
    ///   algorithms none of which the profile allows.
    public func applied(to configuration: OAuthClient.Configuration) throws(OAuthError) -> OAuthClient.Configuration {
        var result = configuration
        guard let signer = configuration.authentication.privateKeyJWT else {
            throw OAuthError(
                .invalidConfiguration,
                "FAPI 2.0 allows only private_key_jwt client authentication, not \(configuration.authentication.methodName)")
        }
        if let key = signer.key, !Self.fapi2Algorithms.contains(key.algorithm) {
            throw OAuthError(
                .invalidConfiguration, "FAPI 2.0 client assertions are signed with PS256 or ES256, not \(key.algorithm)")
        }
        guard configuration.pushedAuthorization != .never else {
            throw OAuthError(.invalidConfiguration, "FAPI 2.0 requires pushed authorization requests; PAR is set to never")
        }
        result.pushedAuthorization = .always
        result.usesDPoP = true
        result.requiresIssuerParameter = true
        let algorithms = (configuration.algorithms ?? Self.fapi2Algorithms).intersection(Self.fapi2Algorithms)
        guard !algorithms.isEmpty else {
            throw OAuthError(.invalidConfiguration, "FAPI 2.0 ID tokens are signed with PS256 or ES256; none is allowed")
        }
        result.algorithms = algorithms
        return result
    }

    /// What `metadata` lacks for the profile, each in a few words (empty when nothing), for
    /// `check-config` and logs. `clientAlgorithm` is the client key's algorithm when known.
    public func shortcomings(of metadata: ProviderMetadata, clientAlgorithm: String?) -> [String] {
        var missing: [String] = []
        if metadata.pushedAuthorizationRequestEndpoint == nil { missing.append("no pushed_authorization_request_endpoint") }
        if metadata.authorizationResponseIssParameterSupported != true {
            missing.append("authorization_response_iss_parameter_supported is not true")
        }
        if let methods = metadata.codeChallengeMethodsSupported, !methods.contains("S256") {
            missing.append("code_challenge_methods_supported lacks S256")
        }
        if let methods = metadata.tokenEndpointAuthMethodsSupported, !methods.contains("private_key_jwt") {
            missing.append("token_endpoint_auth_methods_supported lacks private_key_jwt")
        }
        let wanted = clientAlgorithm.map { Set([$0]) } ?? Self.fapi2Algorithms
        if let algorithms = metadata.tokenEndpointAuthSigningAlgValuesSupported, wanted.isDisjoint(with: algorithms) {
            missing.append(
                "token_endpoint_auth_signing_alg_values_supported lacks \(clientAlgorithm ?? "PS256 and ES256")")
        }
        if !(metadata.dpopSigningAlgValuesSupported ?? []).contains("ES256") {
            missing.append("dpop_signing_alg_values_supported lacks ES256")
        }
        if let algorithms = metadata.idTokenSigningAlgValuesSupported, Self.fapi2Algorithms.isDisjoint(with: algorithms) {
            missing.append("id_token_signing_alg_values_supported has neither PS256 nor ES256")
        }
        return missing
    }
}
