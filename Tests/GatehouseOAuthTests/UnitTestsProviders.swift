import Foundation
import Testing

@testable import GatehouseOAuth

@Suite("Provider presets")
struct UnitTestsProviders {
    func decode(_ document: String, _ provider: Provider) throws(OAuthError) -> ProviderMetadata {
        try Discovery.decode(Array(document.utf8), policy: provider.issuerPolicy)
    }

    @Test func googleDiscoveryAndBothIssuerSpellings() throws {
        let metadata = try decode(ProviderDocuments.google, .google)
        #expect(metadata.revocationEndpoint == "https://oauth2.googleapis.com/revoke")
        if case .discovery(let url) = Provider.google.metadataSource {
            #expect(url == "https://accounts.google.com/.well-known/openid-configuration")
        }
        try Provider.google.issuerPolicy.check(issuer: "https://accounts.google.com", tenant: nil)
        try Provider.google.issuerPolicy.check(issuer: "accounts.google.com", tenant: nil)
        #expect(throws: OAuthError.self) { try Provider.google.issuerPolicy.check(issuer: "https://accounts.google.com.evil", tenant: nil) }
    }

    @Test func gitLabDiscovery() throws {
        let gitLab = Provider.gitLab()
        let metadata = try decode(ProviderDocuments.gitLab, gitLab)
        #expect(metadata.issuer == "https://gitlab.com")
        #expect(gitLab.name == "gitlab")
        #expect(throws: OAuthError.self) { try decode(ProviderDocuments.gitLab, .gitLab(baseURL: "https://gitlab.example.com")) }
    }

    @Test func microsoftCommonPublishesATemplateIssuer() throws {
        let common = Provider.microsoft()
        _ = try decode(ProviderDocuments.microsoftCommon, common)
        // A single-tenant preset does not accept the template, and vice versa.
        #expect(throws: OAuthError.self) { try decode(ProviderDocuments.microsoftCommon, .microsoft(tenant: ProviderDocuments.contosoTenant)) }
        _ = try decode(ProviderDocuments.microsoftSingleTenant, .microsoft(tenant: ProviderDocuments.contosoTenant))
        #expect(throws: OAuthError.self) { try decode(ProviderDocuments.microsoftSingleTenant, common) }
    }

    @Test func microsoftIDTokensAreCheckedAgainstTheirTenant() async throws {
        let tenant = ProviderDocuments.contosoTenant
        let keys = try await KeySet.build(jwks: Array(try JSONEncoder().encode(TestKeys.jwks([TestKeys.ec.publicJWK()]))), algorithms: ["ES256"])
        let now = HostileIdP.now
        func verify(issuer: String, tid: String?, provider: Provider) throws {
            var claims = TestKeys.claims(issuer: issuer, clientID: "app", nonce: "n", now: now)
            if let tid { claims["tid"] = .string(tid) }
            let token = try TestKeys.ec.token(claims)
            _ = try IDTokenVerifier.verify(
                token, keys: keys,
                expecting: IDTokenExpectations(issuer: provider.issuerPolicy, clientID: "app", nonce: "n"), now: now)
        }
        let good = "https://login.microsoftonline.com/\(tenant)/v2.0"
        try verify(issuer: good, tid: tenant, provider: .microsoft(allowedTenants: [tenant]))
        try verify(issuer: good, tid: tenant, provider: .microsoft(tenant: "organizations", allowedTenants: [tenant]))
        try verify(issuer: good, tid: tenant, provider: .microsoft(allowedTenants: [tenant.uppercased()]))
        try verify(issuer: good, tid: tenant, provider: .microsoft(allowedTenants: .anyTenant))
        try verify(issuer: good, tid: tenant, provider: .microsoft(tenant: tenant))

        func expect(_ code: OAuthError.Code, issuer: String, tid: String?, provider: Provider) {
            do {
                try verify(issuer: issuer, tid: tid, provider: provider)
                Issue.record("expected \(code)")
            } catch {
                #expect((error as? OAuthError)?.code == code, "\(error)")
            }
        }
        let other = "00000000-0000-0000-0000-000000000001"
        // The token claims one tenant in iss and another in tid.
        expect(.idTokenIssuerMismatch, issuer: good, tid: other, provider: .microsoft(allowedTenants: .anyTenant))
        expect(.idTokenIssuerMismatch, issuer: good, tid: other, provider: .microsoft(allowedTenants: [tenant, other]))
        expect(.idTokenTenantMismatch, issuer: good, tid: nil, provider: .microsoft(allowedTenants: .anyTenant))
        expect(.idTokenTenantMismatch, issuer: good, tid: tenant, provider: .microsoft(allowedTenants: [other]))
        // No allow-list: no tenant at all (and OAuthClient refuses the preset, below).
        expect(.idTokenTenantMismatch, issuer: good, tid: tenant, provider: .microsoft())
        expect(.idTokenIssuerMismatch, issuer: "https://login.microsoftonline.com/\(other)/v2.0", tid: other, provider: .microsoft(tenant: tenant))
        expect(.idTokenIssuerMismatch, issuer: "https://evil.example/\(tenant)/v2.0", tid: tenant, provider: .microsoft(allowedTenants: .anyTenant))
    }

    /// nOAuth: `common`/`organizations` without an allow-list would let any Entra ID tenant
    /// sign in, its admin choosing the user's email. The client refuses to be made; naming the
    /// tenants, or the explicit `.anyTenant`, is accepted. A single tenant must be on its list.
    @Test func microsoftMultiTenantNeedsAnAllowList() throws {
        func make(_ provider: Provider) throws(OAuthError) -> OAuthClient {
            try OAuthClient(
                provider: provider, configuration: .init(clientID: "app", authentication: .none, redirectURI: "https://app.example.com/cb"))
        }
        let tenant = ProviderDocuments.contosoTenant
        for refused in [Provider.microsoft(), .microsoft(tenant: "organizations"), .microsoft(tenant: "Common", allowedTenants: []),
            .microsoft(tenant: tenant, allowedTenants: ["00000000-0000-0000-0000-000000000001"]),
            .microsoft(tenant: "consumers", allowedTenants: [tenant])]
        {
            #expect(throws: OAuthError.self) { try make(refused) }
            do {
                _ = try make(refused)
            } catch {
                #expect(error.code == .invalidConfiguration)
                #expect(error.message.contains("tenant"), "\(error.message)")
            }
        }
        _ = try make(.microsoft(allowedTenants: [tenant]))
        _ = try make(.microsoft(tenant: "organizations", allowedTenants: .anyTenant))
        _ = try make(.microsoft(tenant: tenant))
        _ = try make(.microsoft(tenant: tenant, allowedTenants: [tenant]))
        _ = try make(.microsoft(tenant: "consumers"))
        _ = try make(.microsoft(tenant: "consumers", allowedTenants: [Provider.microsoftConsumerTenant]))
        // The email rule of the preset.
        #expect(Provider.microsoft(tenant: tenant).emailVerification == .always(claim: "xms_edov"))
        #expect(Provider.google.emailVerification == .ifPresent)
        #expect(Provider.oidc(issuer: "https://idp.example.com").emailVerification == .ifPresent)
    }

    /// An RFC 9207 `iss` parameter names an allowed tenant.
    @Test func microsoftAuthorizationResponseIssuerNamesAnAllowedTenant() {
        let tenant = ProviderDocuments.contosoTenant
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0"
        let policy = Provider.microsoft(allowedTenants: [tenant]).issuerPolicy
        #expect(policy.acceptsAuthorizationResponse(issuer: "https://login.microsoftonline.com/\(tenant)/v2.0", discovered: template))
        #expect(
            !policy.acceptsAuthorizationResponse(
                issuer: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0", discovered: template))
        #expect(!Provider.microsoft().issuerPolicy.acceptsAuthorizationResponse(
            issuer: "https://login.microsoftonline.com/\(tenant)/v2.0", discovered: template))
    }

    @Test func gitHubIsOAuthWithFixedEndpoints() async throws {
        let gitHub = Provider.gitHub()
        #expect(!gitHub.isOpenIDConnect)
        #expect(gitHub.defaultScopes == ["read:user", "user:email"])
        guard case .fixed(let metadata) = gitHub.metadataSource else {
            Issue.record("GitHub must not use discovery")
            return
        }
        #expect(metadata.authorizationEndpoint == "https://github.com/login/oauth/authorize")
        #expect(metadata.tokenEndpoint == "https://github.com/login/oauth/access_token")
        let client = try OAuthClient(
            provider: gitHub,
            configuration: .init(clientID: "Iv1.abc", authentication: .clientSecretPost("s"), redirectURI: "https://app.example.com/cb"))
        let request = try await client.authorizationRequest()
        let items = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        #expect(items.first { $0.name == "scope" }?.value == "read:user user:email")
        #expect(items.first { $0.name == "code_challenge_method" }?.value == "S256")
        #expect(!items.contains { $0.name == "nonce" })
    }
}
