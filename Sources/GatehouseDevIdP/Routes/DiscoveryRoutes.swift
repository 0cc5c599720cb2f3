import Foundation
import Hummingbird

/// Discovery (OpenID Connect Discovery 1.0 §4), the JWKS, the admin key rotation and the home
/// page.
struct DiscoveryRoutes: Sendable {
    let idp: IdentityProvider

    func register(on router: Router<IdPRequestContext>) {
        router.get("/.well-known/openid-configuration") { _, _ in
            Responses.json(encoding: Self.metadata(issuer: idp.issuer))
        }
        router.get("/jwks") { _, _ in
            Responses.json(idp.keys.jwksDocument)
        }
        router.post("/admin/rotate-keys") { _, context in
            // The admin endpoint answers loopback peers only, even with --force-non-loopback.
            guard context.peerIsLoopback else { return Response(status: .forbidden) }
            try idp.rotateKeys()
            return Responses.json(encoding: ["kids": idp.keys.currentKeyIDs])
        }
        router.get("/") { request, _ in
            await home(request)
        }
    }

    /// The provider metadata document.
    static func metadata(issuer: String) -> Metadata {
        Metadata(
            issuer: issuer,
            authorizationEndpoint: issuer + "/authorize",
            tokenEndpoint: issuer + "/token",
            userinfoEndpoint: issuer + "/userinfo",
            jwksURI: issuer + "/jwks",
            revocationEndpoint: issuer + "/revoke",
            pushedAuthorizationRequestEndpoint: issuer + "/par",
            endSessionEndpoint: issuer + "/end_session")
    }

    /// The home page: who is signed in here, and a sign-out button (which ends the IdP session
    /// and sends back-channel logout tokens).
    func home(_ request: Request) async -> Response {
        var body = "<p>This is a development OpenID Connect provider. Its metadata is at "
        body += "<a href=\"/.well-known/openid-configuration\"><code>/.well-known/openid-configuration</code></a>.</p>"
        let session = await idp.state.session(cookie: request.cookie(AuthorizeRoutes.sessionCookie), now: idp.now)
        if let session {
            body += "<p>You are signed in as <strong>\(HTMLPage.escape(session.subject))</strong>.</p>"
            body += "<form method=\"post\" action=\"/end_session\"><div class=\"actions\">"
            body += "<button class=\"primary\" type=\"submit\">Sign out of the IdP</button></div></form>"
        } else {
            body += "<p>You are not signed in here.</p>"
        }
        return HTMLPage(title: "Development IdP", bodyHTML: body).response()
    }

    /// The metadata fields the IdP publishes.
    struct Metadata: Encodable, Sendable {
        /// The scopes the IdP grants; others are dropped from a request (RFC 6749 §3.3).
        static let supportedScopes = ["openid", "email", "profile", "offline_access"]

        var issuer: String
        var authorizationEndpoint: String
        var tokenEndpoint: String
        var userinfoEndpoint: String
        var jwksURI: String
        var revocationEndpoint: String
        var pushedAuthorizationRequestEndpoint: String
        /// RFC 9126 §5: per client here (``RegisteredClient/requirePushedAuthorizationRequests``).
        var requirePushedAuthorizationRequests = false
        var requestParameterSupported = true
        var dpopSigningAlgValuesSupported = ["ES256"]
        var requestObjectSigningAlgValuesSupported = ["RS256", "ES256"]
        var endSessionEndpoint: String
        var responseTypesSupported = ["code"]
        var responseModesSupported = ["query"]
        var grantTypesSupported = ["authorization_code", "refresh_token"]
        var subjectTypesSupported = ["public"]
        var idTokenSigningAlgValuesSupported = RegisteredClient.SigningAlgorithm.allCases.map(\.rawValue)
        var scopesSupported = Self.supportedScopes
        var tokenEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
        var tokenEndpointAuthSigningAlgValuesSupported = ["RS256", "PS256", "ES256"]
        var revocationEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
        var codeChallengeMethodsSupported = ["S256"]
        var claimsSupported = [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "acr", "nonce", "at_hash", "sid", "email", "email_verified",
            "name", "preferred_username", "groups",
        ]
        var authorizationResponseIssParameterSupported = true
        var backchannelLogoutSupported = true
        var backchannelLogoutSessionSupported = true
        var acrValuesSupported = AuthenticationLevel.supported
        var frontchannelLogoutSupported = true
        var frontchannelLogoutSessionSupported = true

        enum CodingKeys: String, CodingKey {
            case issuer, authorizationEndpoint = "authorization_endpoint", tokenEndpoint = "token_endpoint"
            case userinfoEndpoint = "userinfo_endpoint", jwksURI = "jwks_uri"
            case revocationEndpoint = "revocation_endpoint", endSessionEndpoint = "end_session_endpoint"
            case pushedAuthorizationRequestEndpoint = "pushed_authorization_request_endpoint"
            case requirePushedAuthorizationRequests = "require_pushed_authorization_requests"
            case requestParameterSupported = "request_parameter_supported"
            case dpopSigningAlgValuesSupported = "dpop_signing_alg_values_supported"
            case requestObjectSigningAlgValuesSupported = "request_object_signing_alg_values_supported"
            case responseTypesSupported = "response_types_supported"
            case responseModesSupported = "response_modes_supported"
            case grantTypesSupported = "grant_types_supported", subjectTypesSupported = "subject_types_supported"
            case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
            case scopesSupported = "scopes_supported"
            case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
            case tokenEndpointAuthSigningAlgValuesSupported = "token_endpoint_auth_signing_alg_values_supported"
            case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
            case codeChallengeMethodsSupported = "code_challenge_methods_supported"
            case claimsSupported = "claims_supported"
            case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
            case backchannelLogoutSupported = "backchannel_logout_supported"
            case backchannelLogoutSessionSupported = "backchannel_logout_session_supported"
            case acrValuesSupported = "acr_values_supported"
            case frontchannelLogoutSupported = "frontchannel_logout_supported"
            case frontchannelLogoutSessionSupported = "frontchannel_logout_session_supported"
        }
    }
}
