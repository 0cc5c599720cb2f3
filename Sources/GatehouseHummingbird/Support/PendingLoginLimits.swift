public import Hummingbird

/// Caps on logins in flight (pending authorizations: one stored row each, created by every
/// `/oauth2/start` before anyone has signed in), so that a flood of starts cannot fill the
/// store. Beyond a cap `/oauth2/start` answers `429` with `Retry-After` — unless the browser
/// has logins of its own in flight, whose oldest it then gives up instead.
public struct PendingLoginLimits: Sendable {
    /// The most logins in flight in all: counted in the store, so shared by every process
    /// using it (read at most once a second per process, plus the logins the process started
    /// since). Default 100,000.
    public var maxPending: Int
    /// The most logins in flight from one client address (an IPv4 address, or an IPv6 /64):
    /// counted by each process, so with several gateways behind a load balancer a client may
    /// have this many at each. Default 300, so an office behind one NAT still signs in.
    public var maxPendingPerClient: Int
    /// What a refused client is told to wait (`Retry-After`). Default 30 seconds.
    public var retryAfter: Duration
    /// The client address of a request, given the TCP peer's IP address: by default the peer
    /// itself. An application behind a reverse proxy passes one that believes that proxy's
    /// `X-Forwarded-For` (the gateway uses `GATEHOUSE_TRUSTED_PROXIES`). `nil` counts the
    /// request under no client (only the global cap applies).
    public var clientAddress: @Sendable (_ request: Request, _ peerIP: String?) -> String?

    public init(
        maxPending: Int = 100_000,
        maxPendingPerClient: Int = 300,
        retryAfter: Duration = .seconds(30),
        clientAddress: @escaping @Sendable (_ request: Request, _ peerIP: String?) -> String? = { _, peer in peer }
    ) {
        self.maxPending = max(1, maxPending)
        self.maxPendingPerClient = max(1, maxPendingPerClient)
        self.retryAfter = retryAfter
        self.clientAddress = clientAddress
    }
}
