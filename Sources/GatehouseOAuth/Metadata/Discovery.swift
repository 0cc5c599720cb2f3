import Foundation

/// OpenID Connect Discovery 1.0 and RFC 8414, as pure functions over the fetched bytes.
public enum Discovery {
    /// The discovery URL for an issuer (OIDC Discovery §4: path appended, not replaced).
    public static func configurationURL(forIssuer issuer: String) -> String {
        var base = issuer
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/.well-known/openid-configuration"
    }

    /// Decodes a discovery document and checks it: valid JSON object, the required fields,
    /// HTTPS endpoints, `code` among the response types when listed, and an `issuer` the
    /// policy accepts (OIDC Discovery §4.3 — otherwise a spoofed document could redirect
    /// logins and keys).
    public static func decode(_ body: [UInt8], policy: IssuerPolicy) throws(OAuthError) -> ProviderMetadata {
        let metadata: ProviderMetadata
        do {
            metadata = try JSONDecoder().decode(ProviderMetadata.self, from: Data(body))
        } catch {
            throw OAuthError(.malformedResponse, "the discovery document is not valid provider metadata JSON")
        }
        guard policy.acceptsDiscovered(metadata.issuer) else {
            throw OAuthError(
                .discoveryIssuerMismatch,
                "the discovery document names issuer \(OAuthError.sanitize(metadata.issuer, limit: 200)), not the configured one"
            )
        }
        try metadata.validateEndpoints()
        if let types = metadata.responseTypesSupported, !types.contains("code") {
            throw OAuthError(.malformedResponse, "the provider does not support the authorization code flow")
        }
        return metadata
    }
}
