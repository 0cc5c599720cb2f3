import NIOCore
import NIOHTTP1

/// The last handler of a pooled upstream connection: hands each response part to the
/// exchange using the connection (``DirectProxyHandler``), and reads from the upstream only
/// while the client's connection can take more (back-pressure for large downloads).
///
/// An idle connection keeps reading, so that the upstream closing it is noticed at once;
/// anything the upstream sends while no request is outstanding closes it.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The exchange using this connection; `nil` while idle.
    var exchange: DirectProxyHandler?
    /// The pool holding this connection while it is idle.
    weak var pool: UpstreamPool?
    /// When the connection last came back to its pool.
    var idleSince = NIODeadline.distantPast
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    var isOpen: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            context.close(promise: nil)
            return
        }
        exchange.upstreamRead(unwrapInboundIn(data), from: self)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.remove(self)
        pool = nil
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamClosed(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed response or a reset: the connection is done (channelInactive follows).
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstreamBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let exchange, !exchange.clientIsWritable {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// Reads again after the client's connection drained.
    func resumeReading() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }

    func send(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close() {
        exchange = nil
        context?.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}
