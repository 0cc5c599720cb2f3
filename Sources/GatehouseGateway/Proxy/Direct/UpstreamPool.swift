import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One ``UpstreamPool`` per event loop, made on first use.
final class UpstreamPools: Sendable {
    let address: UpstreamAddress
    let idleTimeout: TimeAmount
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    init(address: UpstreamAddress, idleTimeout: Duration) {
        self.address = address
        self.idleTimeout = TimeAmount(idleTimeout)
    }

    /// The pool of `eventLoop`; call it on that loop.
    func pool(on eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        if let bound = pools.withLock({ $0[key] }) { return bound.value }
        let pool = UpstreamPool(eventLoop: eventLoop, address: address, idleTimeout: idleTimeout)
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

    init(eventLoop: any EventLoop, address: UpstreamAddress, idleTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.address = address
        self.idleTimeout = idleTimeout
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
    func connect() -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(Self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder())
                    // After the encoder: the decoder sees each request head go out, and so
                    // knows that an answer to HEAD has no body. 1xx answers are dropped.
                    try sync.addHandler(
                        ByteToMessageHandler(
                            HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop)))
                    try sync.addHandler(UpstreamConnection())
                }
            }
            .connect(host: address.host, port: address.port)
    }

    /// Takes a connection back after a complete exchange; it is closed when the pool is full.
    func giveBack(_ connection: UpstreamConnection) {
        guard connection.isOpen else { return }
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
