import NIOCore
import NIOHTTP1
import NIOPosix

/// The upstream half of a WebSocket handshake: a TCP connection on the client's event loop,
/// the handshake request, and the upstream's response head. After a `101`, ``becomeTunnel``
/// strips the HTTP handlers so that the connection carries raw bytes.
enum UpstreamHandshake {
    struct Outcome: Sendable {
        let channel: any Channel
        let head: HTTPResponseHead
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private static let encoderName = "gatehouse.upstream.encoder"
    private static let decoderName = "gatehouse.upstream.decoder"
    private static let headName = "gatehouse.upstream.head"

    /// Connects to `host:port` on `eventLoop`, sends `request`, and returns the response head
    /// (any status). The whole exchange must finish within `timeout`.
    static func perform(
        on eventLoop: any EventLoop, host: String, port: Int, request: HTTPRequestHead, timeout: TimeAmount
    ) async throws -> Outcome {
        let headPromise = eventLoop.makePromise(of: HTTPResponseHead.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(min(timeout, .seconds(5)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(HTTPRequestEncoder(), name: encoderName)
                        try sync.addHandler(
                            ByteToMessageHandler(
                                HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)),
                            name: decoderName)
                        try sync.addHandler(ResponseHeadHandler(promise: headPromise), name: headName)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            headPromise.fail(error)
            throw error
        }
        // Closing the connection fails the promise if the head has not arrived.
        let deadline = eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        channel.write(HTTPClientRequestPart.head(request), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let head = try await headPromise.futureResult.get()
            deadline.cancel()
            return Outcome(channel: channel, head: head)
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            throw error
        }
    }

    /// Turns a connection whose handshake answered `101` into a byte pipe ending in `glue`.
    /// The response decoder goes last: bytes the upstream sent right after its `101` are in
    /// its buffer and reach `glue` as it leaves; a read-complete then makes `glue` flush them
    /// to the client (without it, a server that greets first and then waits would have its
    /// greeting held until it sent something else). Call on the channel's event loop.
    static func becomeTunnel(_ channel: any Channel, glue: GlueHandler) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(glue)
        let removals = [headName, encoderName, decoderName].map { channel.pipeline.removeHandler(name: $0) }
        EventLoopFuture.andAllComplete(removals, on: channel.eventLoop).whenComplete { _ in
            channel.pipeline.fireChannelReadComplete()
        }
    }
}

/// Completes a promise with the first response head; fails it if the connection ends or
/// errs first. Body parts and the end of a non-`101` answer are ignored (never relayed).
private final class ResponseHeadHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var promise: EventLoopPromise<HTTPResponseHead>?

    init(promise: EventLoopPromise<HTTPResponseHead>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data), head.status.code >= 200 || head.status == .switchingProtocols
        else { return }
        promise?.succeed(head)
        promise = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(UpstreamHandshake.Failure(description: "the upstream closed the connection before answering"))
        promise = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise?.fail(UpstreamHandshake.Failure(description: "the handshake was abandoned"))
        promise = nil
    }
}

@available(*, unavailable)
extension ResponseHeadHandler: Sendable {}
