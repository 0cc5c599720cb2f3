import Logging
import NIOCore
import NIOHTTP1

/// Closes a client connection that keeps the gateway waiting:
///
/// - no complete request part (head, body chunk, end) for `timeout` while no answer is owed —
///   an idle keep-alive connection, a head sent a byte at a time (slowloris), a stalled upload;
/// - a request body slower than ``MinimumBodyRate`` over a window — one byte every 25 s is
///   progress for the first rule, but would hold the upload and its upstream connection open
///   forever. The client gets `408` when no answer has started, and the connection is closed
///   either way (logged).
///
/// Never while an answer is being produced or streamed (long polls, downloads), never after a
/// protocol switch (`101`, a WebSocket tunnel), and while a body is read only the client's
/// turn counts: when the gateway stops asking for more (the upstream reads slowly), the clock
/// stops. Right after NIO's codec, so it sees both proxy paths.
final class ClientReadTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let timeout: TimeAmount
    let bodyRate: MinimumBodyRate?
    private let logger: Logger
    private var lastRead = NIODeadline.now()
    /// Requests whose answers have not ended.
    private var answersOwed = 0
    private var readingRequest = false
    private var switchedProtocols = false
    private var timer: Scheduled<Void>?
    /// A read is outstanding: the gateway waits for the client.
    private var readPending = false
    /// Request heads read, and final (non-1xx, or 101) response heads written.
    private var requestHeads = 0
    private var responseHeads = 0
    /// The body being read, measured against ``bodyRate``.
    private var meter: MinimumBodyRate.Meter?
    /// The body waits for `100 Continue` (neither written nor a body byte seen yet): not the
    /// client's turn.
    private var awaitingContinue = false
    private var rateTimer: Scheduled<Void>?
    /// The gateway gave up on this connection; later writes from further in are dropped.
    private var closing = false

    init(timeout: TimeAmount, bodyRate: MinimumBodyRate? = nil, logger: Logger = Logger(label: "gatehouse.gateway")) {
        self.timeout = timeout
        self.bodyRate = bodyRate.flatMap { $0.bytesPerSecond > 0 ? $0 : nil }
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    func channelActive(context: ChannelHandlerContext) {
        lastRead = .now()
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let now = NIODeadline.now()
        lastRead = now
        readPending = false
        switch unwrapInboundIn(data) {
        case .head(let head):
            answersOwed += 1
            requestHeads += 1
            readingRequest = true
            startMeter(head)
        case .body(let buffer):
            awaitingContinue = false
            meter?.received(buffer.readableBytes, now: now)
        case .end:
            readingRequest = false
            stopMeter()
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if !readPending, readingRequest {
            // The gateway asks again: the client's turn starts now, not when its last part came.
            lastRead = .now()
        }
        readPending = true
        if meter != nil, !awaitingContinue {
            meter?.waiting(now: .now())
            armRate(context)
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status == .switchingProtocols:
            switchedProtocols = true
            responseHeads += 1
            cancelTimers()
            meter = nil
        case .head(let head) where head.status == .continue:
            awaitingContinue = false
            if readPending {
                meter?.waiting(now: .now())
                armRate(context)
            }
        case .head(let head) where head.status.code >= 200:
            responseHeads += 1
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

    // MARK: Read timeout

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil, !switchedProtocols, !closing else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastRead + timeout) { [self] in
            timer = nil
            expire(context)
        }
    }

    private func expire(_ context: ChannelHandlerContext) {
        guard !switchedProtocols, !closing else { return }
        // An answer is being produced: the clock starts again when it ends.
        if answersOwed > 0, !readingRequest { return }
        // A body the gateway is not asking for (backpressure): not the client's delay.
        if readingRequest, !readPending {
            lastRead = .now()
            arm(context)
            return
        }
        if NIODeadline.now() >= lastRead + timeout {
            context.close(promise: nil)
        } else {
            arm(context)
        }
    }

    // MARK: Minimum body rate

    private func startMeter(_ head: HTTPRequestHead) {
        stopMeter()
        guard let bodyRate, Self.hasBody(head) else { return }
        meter = MinimumBodyRate.Meter(bodyRate)
        awaitingContinue = head.headers["expect"].contains { $0.lowercased() == "100-continue" }
    }

    private func stopMeter() {
        meter = nil
        awaitingContinue = false
        rateTimer?.cancel()
        rateTimer = nil
    }

    /// Whether a body follows `head` (RFC 9112 §6.3): chunked, or a non-zero length.
    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        return head.headers["content-length"].contains { $0.trimmingWhitespace() != "0" }
    }

    private func armRate(_ context: ChannelHandlerContext) {
        guard rateTimer == nil, !closing, let end = meter?.windowEnd(now: .now()) else { return }
        rateTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: end) { [self] in
            rateTimer = nil
            checkRate(context)
        }
    }

    private func checkRate(_ context: ChannelHandlerContext) {
        guard var meter, !closing else { return }
        let verdict = meter.check(now: .now())
        self.meter = meter
        switch verdict {
        case .running, .passed:
            armRate(context)
        case .tooSlow(let received, let required):
            refuseSlowBody(context, received: received, required: required)
        }
    }

    /// Ends a connection whose body is too slow: `408` when no answer has started (and none
    /// to an earlier request is still streaming), then close.
    private func refuseSlowBody(_ context: ChannelHandlerContext, received: Int, required: Int) {
        let canAnswer = answersOwed == 1 && responseHeads == requestHeads - 1
        closing = true
        cancelTimers()
        meter = nil
        logger.warning(
            "request body too slow; connection closed",
            metadata: [
                "received": "\(received)", "required": "\(required)", "window": "\(bodyRate?.window ?? .zero)",
                "peer": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")", "answered": "\(canAnswer ? 408 : 0)",
            ])
        guard canAnswer else {
            context.close(promise: nil)
            return
        }
        let body = ByteBuffer(
            string: #"{"error":"request_timeout","error_description":"The request body arrived too slowly."}"#)
        let headers: HTTPHeaders = [
            "Connection": "close", "Content-Type": "application/json", "Cache-Control": "no-store",
            "Content-Length": String(body.readableBytes),
        ]
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func cancelTimers() {
        timer?.cancel()
        timer = nil
        rateTimer?.cancel()
        rateTimer = nil
    }
}
