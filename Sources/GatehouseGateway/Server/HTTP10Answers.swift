import NIOCore
import NIOHTTP1

/// Answers HTTP/1.0 requests in HTTP/1.0, right after NIO's codec (every answer passes here,
/// the router's and the direct path's). The Swift HTTP Types the router works with carry no
/// version, so without this an HTTP/1.0 client would get HTTP/1.1 answers with chunked bodies,
/// which it cannot read. An answer without `Content-Length` to HTTP/1.0, or any answer to an
/// HTTP/1.0 request without keep-alive, says `Connection: close` and the connection closes
/// after it (the close ends the body).
final class HTTP10Answers: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests whose answers have not ended, oldest first: (HTTP/1.0, keep-alive asked for).
    private var pending = CircularBuffer<(old: Bool, keepAlive: Bool)>()
    private var closeAfterAnswer = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            pending.append((head.version == .http1_0, head.isKeepAlive))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where pending.first?.old == true && head.status.code >= 200:
            head.version = .http1_0
            let keepAlive = pending.first?.keepAlive == true
            if !keepAlive || !head.headers.contains(name: "content-length") {
                head.headers.remove(name: "transfer-encoding")
                head.headers.replaceOrAdd(name: "Connection", value: "close")
                closeAfterAnswer = true
            } else {
                head.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            if !pending.isEmpty { pending.removeFirst() }
            guard closeAfterAnswer else { return context.write(data, promise: promise) }
            closeAfterAnswer = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }
}

@available(*, unavailable)
extension HTTP10Answers: Sendable {}
