/// An OAuth 2.0 error response (RFC 6749 §4.1.2.1 and §5.2), exactly as the IdP sent it.
public struct OAuthErrorResponse: Sendable, Hashable, Codable {
    /// The `error` code, such as `invalid_grant`.
    public var error: String
    /// `error_description`: human-readable text from the IdP (not localised, not trusted).
    public var errorDescription: String?
    /// `error_uri`: a page about the error.
    public var errorURI: String?

    public init(error: String, errorDescription: String? = nil, errorURI: String? = nil) {
        self.error = error
        self.errorDescription = errorDescription
        self.errorURI = errorURI
    }

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
        case errorURI = "error_uri"
    }
}
