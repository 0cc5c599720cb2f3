import Logging
import NIOCore
import NIOHTTP1

/// The last handler of a pooled upstream connection: hands each response part to the
/// exchange using the connection (``DirectProxyHandler``), and reads from the upstream only
/// while the client's connection can take more (back-pressure for large downloads).
///
/// An idle connection keeps reading, so that the upstream closing it is noticed at once;
/// anything the upstream sends while no request is outstanding closes it
/// (``UpstreamDesyncGuard``), as does a `101` (the direct path never asks for an upgrade) or a
/// request body longer than its head announced; after an informational answer other than
/// `100`/`103` it serves only the exchange in flight. A retired connection is never handed out
/// again.
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
    /// A request head went out and its final response has not ended.
    private(set) var awaitsResponse = false
    /// Final responses received so far (``UpstreamDesyncGuard`` watches it).
    private(set) var completedResponses = 0
    /// Body bytes the request in flight may still send; `nil`: chunked.
    private var bodyBytesLeft: Int?
    /// Desynchronised, closed, or past an unexpected 1xx: never used again.
    private var isRetired = false
    /// ``desynchronised(_:)`` has closed it (a retired connection may still be finishing its
    /// exchange, and must still be closed at the next sign of desync).
    private var isDesynchronised = false
    /// ``UpstreamDesyncGuard`` is handing a read to the decoder: a response that ends meanwhile
    /// returns the connection to its pool only once the whole read is checked.
    private var isReading = false
    private var returnAfterRead: UpstreamPool?
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    init(logger: Logger) {
        self.logger = logger
    }

    var isOpen: Bool { !isRetired && (context?.channel.isActive ?? false) }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard awaitsResponse, let exchange else {
            return desynchronised("a response with no request outstanding")
        }
        switch part {
        case .head(let head) where head.status.code < 200:
            switch head.status.code {
            case 100, 103: return  // Continue, Early Hints: the final answer follows
            case 101: return desynchronised("101 Switching Protocols to a request that asked for no upgrade")
            default:
                // Parsed and passed over (RFC 9110 §15.2), but not expected: this connection
                // serves nobody after the exchange in flight.
                if !isRetired { logger.notice("upstream sent an unexpected informational response; connection retired", metadata: ["status": "\(head.status.code)"]) }
                isRetired = true
                return
            }
        case .end:
            awaitsResponse = false
            completedResponses += 1
        case .head, .body:
            break
        }
        exchange.upstreamRead(part, from: self)
    }

    func readStarted() {
        isReading = true
    }

    /// The read is checked: a connection given back meanwhile goes to its pool now.
    func readFinished() {
        isReading = false
        guard let pool = returnAfterRead else { return }
        returnAfterRead = nil
        pool.giveBack(self)
    }

    /// Whether the pool must wait for ``readFinished()`` before taking the connection back.
    func deferReturn(to pool: UpstreamPool) -> Bool {
        guard isReading else { return false }
        returnAfterRead = pool
        return true
    }

    /// Closes the connection for good: what the upstream sent cannot be the answer to the
    /// request in flight. The exchange, if any, learns it as a close (`502` unless its answer
    /// had started).
    func desynchronised(_ reason: String) {
        guard !isDesynchronised else { return }
        isDesynchronised = true
        isRetired = true
        awaitsResponse = false
        logger.warning("upstream connection out of step; closed", metadata: ["reason": "\(reason)"])
        pool?.remove(self)
        pool = nil
        context?.close(promise: nil)
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
        // A malformed or unsolicited response, or a reset: the connection is done
        // (channelInactive follows).
        isRetired = true
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

    /// Sends a request head whose body is `bodyLength` bytes long (`nil`: chunked).
    func send(head: HTTPRequestHead, bodyLength: Int?) {
        awaitsResponse = true
        bodyBytesLeft = bodyLength
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    /// Sends a part of the request body, or its end.
    func send(_ part: HTTPClientRequestPart) {
        switch part {
        case .head(let head):
            let lengths = head.headers["content-length"]
            let chunked = head.headers.contains(name: "transfer-encoding")
            return send(head: head, bodyLength: lengths.isEmpty ? (chunked ? nil : 0) : Int(lengths[0]))
        case .body(let data):
            // The body read from the client cannot outgrow what its head announced (NIO's
            // decoder frames it); if it ever did, the excess would be a request of its own.
            if let left = bodyBytesLeft {
                guard data.readableBytes <= left else { return desynchronised("request body longer than announced") }
                bodyBytesLeft = left - data.readableBytes
            }
        case .end:
            break
        }
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close() {
        exchange = nil
        isRetired = true
        context?.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}
