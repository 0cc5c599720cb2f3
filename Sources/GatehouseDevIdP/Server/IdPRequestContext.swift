public import Hummingbird

/// The request context of the development IdP: whether the TCP peer is on loopback (the
/// admin endpoint answers nobody else).
public struct IdPRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `true` when the peer's address is `127.0.0.0/8` or `::1`.
    public let peerIsLoopback: Bool

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let address = source.channel.remoteAddress?.ipAddress ?? ""
        self.peerIsLoopback = Loopback.isLoopback(host: address) || address == "::ffff:127.0.0.1"
    }
}
