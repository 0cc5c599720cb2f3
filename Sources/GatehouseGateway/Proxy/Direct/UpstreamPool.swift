import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One ``UpstreamPool`` per event loop, made on first use.
final class UpstreamPools: Sendable {
    let address: UpstreamAddress
    let logger: Logger
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    init(address: UpstreamAddress, logger: Logger) {
        self.address = address
        self.logger = logger
    }

    /// The pool of `eventLoop`; call it on that loop.
    func pool(on eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        if let bound = pools.withLock({ $0[key] }) { return bound.value }
        let pool = UpstreamPool(eventLoop: eventLoop, address: address, logger: logger)
        pools.withLock { $0[key] = NIOLoopBound(pool, eventLoop: eventLoop) }
        return pool
    }
}

/// Idle keep-alive HTTP/1.1 connections to the upstream, all on one event loop, so that a
/// client connection and its upstream connection are served by the same thread without locks.
/// The most recently used connection is reused first; a connection the upstream closes while
/// idle leaves the pool at once.
final class UpstreamPool {
    /// Idle connections kept per event loop; more are closed when they come back.
    static let idleLimit = 256
    /// How long a new connection may take; the router's client then gets its own try.
    static let connectTimeout = TimeAmount.seconds(2)

    let eventLoop: any EventLoop
    let address: UpstreamAddress
    let logger: Logger
    private var idle: [UpstreamConnection] = []

    init(eventLoop: any EventLoop, address: UpstreamAddress, logger: Logger) {
        self.eventLoop = eventLoop
        self.address = address
        self.logger = logger
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
        idle.append(connection)
    }

    /// Called by a connection that closed while idle.
    func remove(_ connection: UpstreamConnection) {
        idle.removeAll { $0 === connection }
    }
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}
