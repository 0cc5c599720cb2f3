import NIOCore
import NIOHTTP1

/// Sits on each client connection right after NIO's HTTP/1.1 codec (``GatewayHTTP1Channel``),
/// screens every request there (``RequestScreening/screen(_:)``: refused ones are answered and
/// the connection closes), and proxies the requests ``DirectProxy`` can plan on the event loop; every other request
/// goes on, unchanged, to the conversion to Swift HTTP Types and Hummingbird's request loop.
///
/// One request at a time is in flight per connection, in order: while the router owes answers,
/// later requests go to the router too; while this handler proxies one, requests pipelined
/// behind it are held (and reading stops) until its answer is complete. Back-pressure both
/// ways: the client is read only while the upstream can take more, and the upstream only while
/// the client can. A graceful-shutdown request and a client's half-close wait for the
/// exchange in flight.
///
/// Before anything is sent upstream, a failure to connect hands the request to the router (its
/// HTTP client retries and answers the `502` page). A pooled connection the upstream closed
/// unnoticed is retried once on a new one for requests without a body.
final class DirectProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Phase {
        case idle
        /// Waiting for an upstream connection; request parts read meanwhile are kept.
        case connecting
        /// The request goes out, the response comes back.
        case exchanging(UpstreamConnection)
        /// Answered with an error page: the connection closes, nothing more is read.
        case closing
    }

    let proxy: DirectProxy
    /// The pool of the exchange's route on this event loop (kept while requests stay on one route).
    var pool: UpstreamPool?
    var poolRoute = -1
    var context: ChannelHandlerContext?
    var peerIP: String?
    var phase = Phase.idle
    /// A request was refused by screening: nothing more is read, and the connection closes
    /// after its answer (``pendingRefusal`` until the answers before it are out).
    var refused = false
    var pendingRefusal: (head: HTTPRequestHead, refusal: RequestScreening.Refusal)?
    /// A parse error of the client's stream read behind the exchange in flight or held
    /// requests: passed on (the request loop answers `400` and closes) once they are answered.
    var heldError: (any Error)?

    // The exchange in flight.
    var request: HTTPRequestHead?
    var plan: DirectProxy.Plan?
    /// Body and end parts read while connecting.
    var keptParts: [HTTPServerRequestPart] = []
    var requestEnded = false
    var responseStarted = false
    var upstreamKeepAlive = false
    var closeAfterResponse = false
    var reusedConnection = false
    var retried = false
    var started = ContinuousClock.now
    /// When the upstream's response head is due (the pool's sweep checks it).
    var headDeadlineAt = NIODeadline.distantFuture
    /// This handler's place in its pool's list of exchanges waiting for a head.
    var waitingIndex: Int?
    /// A response body part not yet written to the client (``holdBody(_:context:)``).
    var heldBody: ByteBuffer?
    /// A body part this small is appended to the one held instead of written apart.
    static let smallBodyPart = 64
    /// ... as long as the held part is at most this long (the append may copy it).
    static let coalescedBodyLimit = 16 * 1024
    /// Completes when the last part of the latest answer has been written.
    var lastWrite: EventLoopFuture<Void>?

    /// Requests handed to the router whose answers have not ended yet.
    var routerAnswersOwed = 0
    /// The request being read belongs to the router.
    var readingForRouter = false
    /// Parts of requests pipelined behind the exchange in flight.
    var heldParts = CircularBuffer<HTTPServerRequestPart>()
    var pendingRead = false
    var quiesceHeld = false
    var inputClosedHeld = false
    /// Parts were passed to the router since the last `channelReadComplete`.
    var routerReadsUndelivered = false

    init(proxy: DirectProxy) {
        self.proxy = proxy
    }

    var clientIsWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.peerIP = context.channel.remoteAddress?.ipAddress
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandonExchange()
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(var head) = unwrapInboundIn(data) else { return route(unwrapInboundIn(data)) }
        // RequestScreening's decision, taken here in its place (one parse of the target).
        let screened: RequestScreening.Screened
        do {
            screened = try RequestScreening.screen(head)
        } catch {
            // Answered in order: after the exchange in flight, held requests and the router's
            // answers owed.
            refused = true
            pendingRefusal = (head, error)
            return answerRefusalWhenDue()
        }
        _ = RequestScreening.renameMethod(&head)
        route(.head(head), screened: screened)
    }

    /// `screened`: the screening of a head just read (`nil` for held heads: asked again).
    func route(_ part: HTTPServerRequestPart, screened: RequestScreening.Screened? = nil) {
        switch part {
        case .head(let head):
            switch phase {
            case .idle:
                if routerAnswersOwed == 0, let screened = screened ?? (try? RequestScreening.screen(head)),
                    let plan = proxy.plan(head, screened: screened, peerIP: peerIP)
                {
                    begin(head, plan: plan)
                } else {
                    toRouter(part)
                }
            case .connecting, .exchanging:
                heldParts.append(part)
            case .closing:
                break
            }
        case .body, .end:
            if readingForRouter {
                toRouter(part)
                return
            }
            if requestEnded {
                if case .closing = phase { return }
                heldParts.append(part)  // of a held request
                return
            }
            if case .end = part { requestEnded = true }
            switch phase {
            case .connecting: keptParts.append(part)
            case .exchanging(let connection): send(part, to: connection, flush: true)
            case .idle, .closing: break
            }
        }
    }

    func toRouter(_ part: HTTPServerRequestPart) {
        switch part {
        case .head:
            routerAnswersOwed += 1
            readingForRouter = true
        case .body: break
        case .end: readingForRouter = false
        }
        routerReadsUndelivered = true
        context?.fireChannelRead(wrapInboundOut(part))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        routerReadsUndelivered = false
        context.fireChannelReadComplete()
    }

    /// Hummingbird's channel hands reads to the request loop at `channelReadComplete`: parts
    /// passed on outside a read cycle (after an exchange, a failed connect) need one too.
    func deliverRouterReads() {
        guard routerReadsUndelivered, let context else { return }
        routerReadsUndelivered = false
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonExchange()
        phase = .closing
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard isIdle, heldParts.isEmpty, pendingRefusal == nil else {
            heldError = heldError ?? error
            return
        }
        context.fireErrorCaught(error)
    }

    /// Passes on a held parse error once every answer before it is out.
    func passHeldErrorWhenDue() {
        guard let error = heldError, isIdle, heldParts.isEmpty, let context else { return }
        heldError = nil
        context.fireErrorCaught(error)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .exchanging(let connection) = phase { connection.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Held until the exchange in flight is over: a graceful shutdown (the router's
        // connection handler would close a connection it thinks idle), and the client's
        // half-close after its request (the router's request loop would end and close the
        // output under the answer).
        switch phase {
        case .connecting, .exchanging:
            if event is ChannelShouldQuiesceEvent {
                quiesceHeld = true
                return
            }
            if let event = event as? ChannelEvent, event == .inputClosed {
                inputClosedHeld = true
                return
            }
        case .idle, .closing:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data), routerAnswersOwed > 0 else { return context.write(data, promise: promise) }
        routerAnswersOwed -= 1
        context.write(data, promise: promise)
        answerRefusalWhenDue()
    }

    /// Answers a refused request once every answer before it is out.
    func answerRefusalWhenDue() {
        guard let (head, refusal) = pendingRefusal, isIdle, routerAnswersOwed == 0, heldParts.isEmpty, let context
        else { return }
        pendingRefusal = nil
        phase = .closing
        RequestScreening.refuse(head, refusal, context: context, logger: proxy.proxy.logger)
    }

    func read(context: ChannelHandlerContext) {
        if holdsReads {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// Whether reading the client must wait: behind held requests, while a body waits for its
    /// connection, or while the upstream cannot take more of it.
    var holdsReads: Bool {
        if !heldParts.isEmpty { return true }
        switch phase {
        case .connecting: return !keptParts.isEmpty && !requestEnded
        case .exchanging(let connection): return !requestEnded && !connection.isWritable
        case .idle, .closing: return false
        }
    }

    func resumeReadingIfHeld() {
        guard pendingRead, !holdsReads, let context else { return }
        pendingRead = false
        context.read()
    }

    // MARK: After an exchange

    /// The exchange is over and the client's connection stays: hands on a held graceful
    /// shutdown, then goes on with held requests.
    func continueAfterExchange() {
        phase = .idle
        request = nil
        plan = nil
        if quiesceHeld {
            quiesceHeld = false
            heldParts.removeAll()
            if routerAnswersOwed == 0 {
                closeAfterFlush()
            } else {
                context?.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            return
        }
        while let part = heldParts.first {
            if case .head = part, !isIdle { break }
            heldParts.removeFirst()
            route(part)
        }
        deliverRouterReads()
        answerRefusalWhenDue()
        passHeldErrorWhenDue()
        if inputClosedHeld, isIdle {
            inputClosedHeld = false
            context?.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        resumeReadingIfHeld()
    }

    var isIdle: Bool {
        if case .idle = phase { return true }
        return false
    }

    /// Closes the client's connection once the last answer has gone out (closing at once would
    /// drop what the socket has not taken yet).
    func closeAfterFlush() {
        guard let context else { return }
        phase = .closing
        heldParts.removeAll()
        context.flush()
        guard let lastWrite else { return context.close(promise: nil) }
        lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Drops the exchange in flight (the client went away): its upstream connection closes.
    func abandonExchange() {
        pool?.stopWaiting(self)
        if case .exchanging(let connection) = phase { connection.close() }
        if case .idle = phase {} else { phase = .closing }
    }
}

@available(*, unavailable)
extension DirectProxyHandler: Sendable {}
