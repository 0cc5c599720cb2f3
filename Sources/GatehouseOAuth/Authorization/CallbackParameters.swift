/// The authorization response at the redirect URI (RFC 6749 §4.1.2, RFC 9207 §2).
public struct CallbackParameters: Sendable, Hashable {
    public var code: String?
    public var state: String?
    /// RFC 9207 `iss`: which authorization server sent the browser back.
    public var issuer: String?
    /// RFC 6749 §4.1.2.1 error response.
    public var error: OAuthErrorResponse?

    public init(code: String? = nil, state: String? = nil, issuer: String? = nil, error: OAuthErrorResponse? = nil) {
        self.code = code
        self.state = state
        self.issuer = issuer
        self.error = error
    }

    /// The upper bound on any callback parameter; real codes and states are far shorter.
    static let maximumLength = 4096

    /// Parses the raw query string of the callback URL (without `?`).
    ///
    /// A parameter given twice, a broken `%` escape, or an overlong value is refused
    /// (RFC 6749 §3.1: parameters must not be included more than once).
    public init(query: Substring) throws(OAuthError) {
        guard let pairs = FormEncoding.decode(query) else {
            throw OAuthError(.invalidRequest, "the callback query string is not valid URL encoding")
        }
        var values: [String: String] = [:]
        for (key, value) in pairs {
            guard value.utf8.count <= Self.maximumLength else {
                throw OAuthError(.invalidRequest, "the callback parameter \(OAuthError.sanitize(key, limit: 32)) is too long")
            }
            guard values.updateValue(value, forKey: key) == nil else {
                throw OAuthError(.invalidRequest, "the callback repeats the parameter \(OAuthError.sanitize(key, limit: 32))")
            }
        }
        self.code = values["code"]
        self.state = values["state"]
        self.issuer = values["iss"]
        if let error = values["error"] {
            self.error = OAuthErrorResponse(
                error: error, errorDescription: values["error_description"], errorURI: values["error_uri"])
        } else {
            self.error = nil
        }
    }
}
