import NIOCore

/// Splices two channels that share an event loop: what one reads, the other writes; a side
/// stops reading while its partner cannot write (back-pressure), and closing either side
/// closes both. After a WebSocket handshake, the client's and the upstream's connections are
/// joined this way, so frames pass byte for byte (extensions and subprotocols end to end).
final class GlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// What the partner read before this handler was added to its channel.
    private var earlyWrites: [NIOAny] = []

    private init() {}

    /// Two handlers, one for each channel.
    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !earlyWrites.isEmpty {
            for data in earlyWrites { context.write(data, promise: nil) }
            earlyWrites = []
            context.flush()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.write(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        partner?.context?.close(promise: nil)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        // Until the partner is in its channel, its writes are kept: keep reading.
        if let partner, partner.context?.channel.isWritable ?? true {
            context.read()
        } else {
            pendingRead = true
        }
    }

    /// Writes what the partner read, or keeps it until this handler is in its channel.
    private func write(_ data: NIOAny) {
        if let context {
            context.write(data, promise: nil)
        } else {
            earlyWrites.append(data)
        }
    }

    private func resumeReading() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }
}

@available(*, unavailable)
extension GlueHandler: Sendable {}
