public import AsyncHTTPClient

extension OAuthClient {
    /// The default client for calls to the IdP: pooled and process-wide like
    /// `HTTPClient.shared`, but it never follows redirects — a redirected token request would
    /// re-send the code, the PKCE verifier and possibly the client secret to wherever the
    /// `Location` points, past the HTTPS check — and never decompresses (no compression bombs).
    ///
    /// A client passed to ``OAuthClient/init(provider:configuration:httpClient:clock:logger:)``
    /// should be configured the same way.
    public static var defaultHTTPClient: HTTPClient { sharedIdPClient }
}

private let sharedIdPClient = HTTPClient(
    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
    configuration: HTTPClient.Configuration(
        redirectConfiguration: .disallow,
        timeout: .init(connect: .seconds(10)),
        decompression: .disabled))
