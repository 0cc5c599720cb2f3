import NIOCore
import NIOHTTP1

/// Closes a client connection that keeps the gateway waiting: no complete request part (head,
/// body chunk, end) for `timeout` while no answer is owed — an idle keep-alive connection, a
/// head sent a byte at a time (slowloris), a stalled upload. Never while an answer is being
/// produced or streamed (long polls, downloads), and never after a protocol switch (`101`,
/// a WebSocket tunnel). Right after NIO's codec, so it sees both proxy paths.
final class ClientReadTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let timeout: TimeAmount
    private var lastRead = NIODeadline.now()
    /// Requests whose answers have not ended.
    private var answersOwed = 0
    private var readingRequest = false
    private var switchedProtocols = false
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        lastRead = .now()
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head:
            answersOwed += 1
            readingRequest = true
        case .body:
            break
        case .end:
            readingRequest = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status == .switchingProtocols:
            switchedProtocols = true
            timer?.cancel()
            timer = nil
        case .end:
            answersOwed = max(0, answersOwed - 1)
            if answersOwed == 0 {
                lastRead = .now()
                arm(context)
            }
        default:
            break
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil, !switchedProtocols else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastRead + timeout) { [self] in
            timer = nil
            expire(context)
        }
    }

    private func expire(_ context: ChannelHandlerContext) {
        guard !switchedProtocols else { return }
        // An answer is being produced: the clock starts again when it ends.
        if answersOwed > 0, !readingRequest { return }
        if NIODeadline.now() >= lastRead + timeout {
            context.close(promise: nil)
        } else {
            arm(context)
        }
    }
}
