import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One ``UpstreamPool`` per event loop, made on first use.
final class UpstreamPools: Sendable {
    let address: UpstreamAddress
    let idleTimeout: TimeAmount
    let logger: Logger
    /// The most connections open at once, over all loops (`GATEHOUSE_UPSTREAM_MAX_CONNECTIONS`).
    let maxConnections: Int
    /// Connections open or being opened, over all loops.
    let openConnections = Atomic<Int>(0)
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    init(address: UpstreamAddress, idleTimeout: Duration, maxConnections: Int = 512, logger: Logger) {
        self.address = address
        self.idleTimeout = TimeAmount(idleTimeout)
        self.maxConnections = maxConnections
        self.logger = logger
    }

    /// Takes one of the `maxConnections` places; `false` when all are taken.
    func reserveConnection() -> Bool {
        var current = openConnections.load(ordering: .relaxed)
        while current < maxConnections {
            let (exchanged, original) = openConnections.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// All `maxConnections` places are taken.
    struct ConnectionLimitReached: Error {}

    /// Gives back a place taken by ``reserveConnection()``.
    func releaseConnection() {
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// The pool of `eventLoop`; call it on that loop.
    func pool(on eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        if let bound = pools.withLock({ $0[key] }) { return bound.value }
        let pool = UpstreamPool(eventLoop: eventLoop, pools: self)
        pools.withLock { $0[key] = NIOLoopBound(pool, eventLoop: eventLoop) }
        return pool
    }
}

/// Idle keep-alive HTTP/1.1 connections to the upstream, all on one event loop, so that a
/// client connection and its upstream connection are served by the same thread without locks.
/// The most recently used connection is reused first; a connection the upstream closes while
/// idle leaves the pool at once, and one left idle for `idleTimeout` is closed.
final class UpstreamPool {
    /// Idle connections kept per event loop; more are closed when they come back.
    static let idleLimit = 256
    /// How long a new connection may take; the router's client then gets its own try.
    static let connectTimeout = TimeAmount.seconds(2)

    /// How often exchanges waiting for a response head are checked against their deadline:
    /// a timeout fires up to this much late.
    static let deadlineSweep = TimeAmount.milliseconds(250)

    /// The upstream encoder's configuration: framing fields as planned, never rewritten.
    static let encoderConfiguration: HTTPRequestEncoder.Configuration = {
        var configuration = HTTPRequestEncoder.Configuration()
        configuration.automaticallySetFramingHeaders = false
        return configuration
    }()

    let eventLoop: any EventLoop
    let address: UpstreamAddress
    let idleTimeout: TimeAmount
    /// Oldest first: connections are appended when they come back and reused from the end.
    private var idle: [UpstreamConnection] = []
    /// Closes the oldest idle connection when its time is up; set while any is idle.
    private var idleExpiry: Scheduled<Void>?
    /// Exchanges waiting for a response head; each knows its index (``DirectProxyHandler/waitingIndex``).
    private var waiting: [DirectProxyHandler] = []
    private var sweep: Scheduled<Void>?

    let logger: Logger
    /// The pools of every loop: their shared connection limit.
    private let pools: UpstreamPools

    init(eventLoop: any EventLoop, pools: UpstreamPools) {
        self.eventLoop = eventLoop
        self.address = pools.address
        self.idleTimeout = pools.idleTimeout
        self.logger = pools.logger
        self.pools = pools
    }

    /// An idle connection, if one is open.
    func takeIdle() -> UpstreamConnection? {
        while let connection = idle.popLast() {
            connection.pool = nil
            if connection.isOpen { return connection }
        }
        return nil
    }

    /// A new connection (its ``UpstreamConnection`` handler is found on the channel).
    /// Fails at once when `GATEHOUSE_UPSTREAM_MAX_CONNECTIONS` are open: the request then goes
    /// through the router, whose client queues it.
    func connect() -> EventLoopFuture<any Channel> {
        let logger = self.logger
        let pools = self.pools
        guard pools.reserveConnection() else {
            return eventLoop.makeFailedFuture(UpstreamPools.ConnectionLimitReached())
        }
        let connecting = ClientBootstrap(group: eventLoop)
            .connectTimeout(Self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // Framing fields are written exactly as planned (DirectProxy): the default
                    // encoder drops Content-Length and Transfer-Encoding from methods it deems
                    // bodiless (TRACE) yet still writes their body, which the upstream would
                    // read as a request of its own.
                    try sync.addHandler(HTTPRequestEncoder(configuration: Self.encoderConfiguration))
                    let connection = UpstreamConnection(logger: logger)
                    try sync.addHandler(UpstreamDesyncGuard(connection: connection))
                    // After the encoder: the decoder sees each request head go out, and so
                    // knows that an answer to HEAD has no body. 1xx answers are passed on, so
                    // that the exchange can refuse those it does not expect.
                    try sync.addHandler(
                        ByteToMessageHandler(
                            HTTPResponseDecoder(leftOverBytesStrategy: .fireError, informationalResponseStrategy: .forward)))
                    try sync.addHandler(connection)
                }
            }
            .connect(host: address.host, port: address.port)
        connecting.whenComplete { result in
            switch result {
            case .success(let channel): channel.closeFuture.whenComplete { _ in pools.releaseConnection() }
            case .failure: pools.releaseConnection()
            }
        }
        return connecting
    }

    /// Takes a connection back after a complete exchange; it is closed when the pool is full.
    func giveBack(_ connection: UpstreamConnection) {
        guard connection.isOpen else { return connection.close() }
        if connection.deferReturn(to: self) { return }
        guard idle.count < Self.idleLimit else {
            connection.close()
            return
        }
        connection.pool = self
        connection.idleSince = .now()
        idle.append(connection)
        if idleExpiry == nil { scheduleIdleExpiry() }
    }

    // MARK: Idle timeout

    private func scheduleIdleExpiry() {
        guard let oldest = idle.first else { return }
        idleExpiry = eventLoop.assumeIsolated().scheduleTask(deadline: oldest.idleSince + idleTimeout) {
            [weak self] in
            self?.closeExpiredIdle()
        }
    }

    /// Closes the connections idle for `idleTimeout` or longer, then waits for the next one.
    private func closeExpiredIdle() {
        idleExpiry = nil
        let now = NIODeadline.now()
        while let oldest = idle.first, oldest.idleSince + idleTimeout <= now {
            idle.removeFirst()
            oldest.pool = nil
            oldest.close()
        }
        scheduleIdleExpiry()
    }

    // MARK: Response-head deadlines

    /// One timer per event loop instead of one per request: `handler.headTimedOut()` is called
    /// once its `headDeadlineAt` has passed, unless it stops waiting first.
    func startWaiting(_ handler: DirectProxyHandler) {
        guard handler.waitingIndex == nil else { return }
        handler.waitingIndex = waiting.count
        waiting.append(handler)
        if sweep == nil { scheduleSweep() }
    }

    private func scheduleSweep() {
        sweep = eventLoop.assumeIsolated().scheduleTask(in: Self.deadlineSweep) { [weak self] in
            self?.expireDeadlines()
        }
    }

    func stopWaiting(_ handler: DirectProxyHandler) {
        guard let index = handler.waitingIndex, index < waiting.count, waiting[index] === handler else { return }
        handler.waitingIndex = nil
        let last = waiting.removeLast()
        if index < waiting.count {
            waiting[index] = last
            last.waitingIndex = index
        }
    }

    /// Runs while anything waits (then stops, and the next waiter starts it again).
    private func expireDeadlines() {
        sweep = nil
        let now = NIODeadline.now()
        for handler in waiting where handler.headDeadlineAt <= now {  // over a copy
            stopWaiting(handler)
            handler.headTimedOut()
        }
        if !waiting.isEmpty { scheduleSweep() }
    }

    /// Called by a connection that closed while idle.
    func remove(_ connection: UpstreamConnection) {
        idle.removeAll { $0 === connection }
    }
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}
