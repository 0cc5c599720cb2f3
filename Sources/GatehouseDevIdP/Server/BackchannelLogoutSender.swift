/// How logout tokens reach relying parties (OpenID Connect Back-Channel Logout 1.0 §2.5): an
/// HTTP POST of `logout_token=…` as `application/x-www-form-urlencoded`.
///
/// The IdP module has no HTTP client of its own; the caller supplies one (the `gatehouse`
/// executable and the tests use AsyncHTTPClient).
public struct BackchannelLogoutSender: Sendable {
    /// POSTs `body` (form-encoded) to `url` and returns the HTTP status.
    public typealias Post = @Sendable (_ url: String, _ body: String) async throws -> Int

    let post: Post?

    /// Sends logout tokens with `post`.
    public init(_ post: @escaping Post) {
        self.post = post
    }

    private init() {
        self.post = nil
    }

    /// Logs that a logout token would have been sent, and sends nothing.
    public static let disabled = BackchannelLogoutSender()
}
