public import Hummingbird

/// A ready-made request context: the session, and the peer's IP address (for
/// `X-Forwarded-For` and trusted-proxy checks).
public struct GatehouseRequestContext: SessionRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var auth: AuthState
    /// The IP address of the TCP peer (`nil` for a Unix socket).
    public let peerIP: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.auth = AuthState()
        self.peerIP = source.channel.remoteAddress?.ipAddress
    }
}
