/// Checks an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1) in
/// the order the specs require: an unknown client or redirect URI is shown to the user (never
/// redirected to — RFC 6749 §4.1.2.1); every later problem is returned to the client.
enum AuthorizationValidation {
    /// Why a request is refused.
    enum Failure: Error, Equatable {
        /// Show an error page; do not redirect.
        case page(String)
        /// Redirect to the (verified) redirect URI with `error`, `error_description`, `state`.
        case redirect(redirectURI: String, state: String?, error: String, description: String)
    }

    /// The validated request, or the failure.
    static func validate(
        _ query: FormData, client lookup: (String) -> RegisteredClient?
    ) -> Result<AuthorizationRequest, Failure> {
        for name in ["client_id", "redirect_uri"] where query.repeated.contains(name) {
            return .failure(.page("The parameter \(name) appears more than once."))
        }
        guard let clientID = query["client_id"], let client = lookup(clientID) else {
            return .failure(.page("The application that sent you here is not registered with this IdP (unknown client_id)."))
        }
        // OIDC Core §3.1.2.1: redirect_uri is required; RFC 9700 §2.1: exact string match.
        guard let redirectURI = query["redirect_uri"], client.redirectURIs.contains(redirectURI) else {
            return .failure(.page("The redirect_uri is missing or is not registered for \(clientID)."))
        }
        let state = query.repeated.contains("state") ? nil : query["state"]
        func refuse(_ error: String, _ description: String) -> Result<AuthorizationRequest, Failure> {
            .failure(.redirect(redirectURI: redirectURI, state: state, error: error, description: description))
        }
        if let name = query.repeated.sorted().first {
            return refuse("invalid_request", "the parameter \(name) appears more than once")
        }
        if query["request"] != nil { return refuse("request_not_supported", "request objects are not supported") }
        if query["request_uri"] != nil { return refuse("request_uri_not_supported", "request_uri is not supported") }
        guard query["response_type"] == "code" else {
            return refuse("unsupported_response_type", "only response_type=code is supported")
        }
        if let mode = query["response_mode"], mode != "query" {
            return refuse("invalid_request", "only response_mode=query is supported")
        }
        let scopes = (query["scope"] ?? "").split(separator: " ").map(String.init)
        guard scopes.contains("openid") else {
            return refuse("invalid_scope", "the openid scope is required")
        }
        // RFC 7636 §4.4.1: PKCE is required here; only S256 (plain adds nothing over no PKCE).
        guard let challenge = query["code_challenge"] else {
            return refuse("invalid_request", "code_challenge is required (PKCE, RFC 7636)")
        }
        guard query["code_challenge_method"] == "S256" else {
            return refuse("invalid_request", "code_challenge_method must be S256")
        }
        guard challenge.utf8.count == 43, Base64URL.decode(challenge)?.count == 32 else {
            return refuse("invalid_request", "code_challenge is not a base64url SHA-256 value")
        }
        let prompts = Set((query["prompt"] ?? "").split(separator: " ").map(String.init))
        if prompts.contains("none"), prompts.count > 1 {
            return refuse("invalid_request", "prompt=none cannot be combined with other values")
        }
        var maxAge: Int?
        if let text = query["max_age"] {
            guard let seconds = Int(text), seconds >= 0 else {
                return refuse("invalid_request", "max_age must be a whole number of seconds")
            }
            maxAge = seconds
        }
        let granted = scopes.filter { DiscoveryRoutes.Metadata.supportedScopes.contains($0) }
        return .success(
            AuthorizationRequest(
                clientID: clientID, redirectURI: redirectURI, state: state, nonce: query["nonce"],
                scopes: granted, codeChallenge: challenge, forceLogin: prompts.contains("login"),
                silent: prompts.contains("none"),
                acrValues: (query["acr_values"] ?? "").split(separator: " ").map(String.init), maxAge: maxAge,
                dpopKeyThumbprint: query["dpop_jkt"]))
    }
}
