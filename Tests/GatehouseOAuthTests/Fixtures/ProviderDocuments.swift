/// Discovery documents written from each provider's published documentation (fields and
/// values as documented; trimmed of fields Gatehouse does not read).
enum ProviderDocuments {
    /// https://accounts.google.com/.well-known/openid-configuration, as documented in
    /// Google's "OpenID Connect" guide.
    static let google = """
        {
          "issuer": "https://accounts.google.com",
          "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
          "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
          "token_endpoint": "https://oauth2.googleapis.com/token",
          "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
          "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
          "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
          "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
          "subject_types_supported": ["public"],
          "id_token_signing_alg_values_supported": ["RS256"],
          "scopes_supported": ["openid", "email", "profile"],
          "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
          "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
          "code_challenge_methods_supported": ["plain", "S256"],
          "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
        }
        """

    /// https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration
    /// (Microsoft identity platform docs): the issuer is a template with `{tenantid}`.
    static let microsoftCommon = """
        {
          "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
          "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
          "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
          "response_modes_supported": ["query", "fragment", "form_post"],
          "subject_types_supported": ["pairwise"],
          "id_token_signing_alg_values_supported": ["RS256"],
          "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
          "scopes_supported": ["openid", "profile", "email", "offline_access"],
          "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
          "request_uri_parameter_supported": false,
          "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
          "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
          "device_authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
          "http_logout_supported": true,
          "frontchannel_logout_supported": true,
          "end_session_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/logout",
          "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
          "kerberos_endpoint": "https://login.microsoftonline.com/common/kerberos",
          "tenant_region_scope": null,
          "cloud_instance_name": "microsoftonline.com",
          "cloud_graph_host_name": "graph.windows.net",
          "msgraph_host": "graph.microsoft.com",
          "rbac_url": "https://pas.windows.net"
        }
        """

    static let contosoTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    /// The same document for a single tenant: the issuer names it.
    static let microsoftSingleTenant = microsoftCommon
        .replacingOccurrences(of: "{tenantid}", with: contosoTenant)
        .replacingOccurrences(of: "/common/", with: "/\(contosoTenant)/")

    /// https://gitlab.com/.well-known/openid-configuration (GitLab "OpenID Connect" docs).
    static let gitLab = """
        {
          "issuer": "https://gitlab.com",
          "authorization_endpoint": "https://gitlab.com/oauth/authorize",
          "token_endpoint": "https://gitlab.com/oauth/token",
          "revocation_endpoint": "https://gitlab.com/oauth/revoke",
          "introspection_endpoint": "https://gitlab.com/oauth/introspect",
          "userinfo_endpoint": "https://gitlab.com/oauth/userinfo",
          "jwks_uri": "https://gitlab.com/oauth/discovery/keys",
          "scopes_supported": ["api", "read_api", "read_user", "openid", "profile", "email"],
          "response_types_supported": ["code"],
          "response_modes_supported": ["query", "fragment", "form_post"],
          "grant_types_supported": ["authorization_code", "password", "client_credentials", "device_code", "refresh_token"],
          "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
          "subject_types_supported": ["public"],
          "id_token_signing_alg_values_supported": ["RS256"],
          "claim_types_supported": ["normal"],
          "claims_supported": ["iss", "sub", "aud", "exp", "iat", "sub_legacy", "name", "nickname", "preferred_username", "email", "email_verified", "website", "profile", "picture", "groups", "groups_direct", "https://gitlab.org/claims/groups/owner", "https://gitlab.org/claims/groups/maintainer", "https://gitlab.org/claims/groups/developer"],
          "code_challenge_methods_supported": ["plain", "S256"]
        }
        """
}

import Foundation
