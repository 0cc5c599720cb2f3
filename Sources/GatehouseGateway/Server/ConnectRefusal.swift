import NIOCore
import NIOHTTP1

/// Refuses `CONNECT`, right after NIO's codec: a reverse proxy has no tunnel to offer, and
/// NIO's parser stops reading HTTP after a `CONNECT` head, so the connection is done. Answers
/// `400` and closes; nothing of the request reaches the router, the
/// direct path or the upstream. (NIO's encoder sends no body in an answer to `CONNECT`: the
/// status line says it. The router refuses other targets that are not a path:
/// ``GatewayMiddleware/hasProxyableTarget(_:)``.)
final class ConnectRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(let head) = unwrapInboundIn(data), head.method == .CONNECT else {
            context.fireChannelRead(data)
            return
        }
        refused = true
        let headers: HTTPHeaders = ["Connection": "close", "Content-Length": "0"]
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
