import Logging
import NIOCore
import NIOHTTP1

/// Right after NIO's codec, before anything else sees a request (the direct path, the router,
/// the WebSocket handshake, Gatehouse's own endpoints): refuses every request whose framing or
/// target could be read two ways, answers why, and closes the connection — nothing of such a
/// request reaches the upstream. ``screen(_:)`` is the decision (pure, tested on its own);
/// with the direct path on, ``DirectProxyHandler`` takes this handler's place and asks it
/// itself, so that the target is parsed once.
///
/// - `CONNECT`: a reverse proxy has no tunnel to offer (`400`).
/// - `Host` (RFC 9112 §3.2): none in an HTTP/1.1 request, more than one, or one that is not a
///   plain host and port (`400`).
/// - Framing (RFC 9112 §6): `Transfer-Encoding` other than exactly `chunked` (`501`), with
///   `Content-Length` too or in an HTTP/1.0 request (`400`: faulty framing), several or
///   malformed `Content-Length` values (`400`), and a body on `TRACE` (`400`: RFC 9110 §9.3.8
///   forbids it, and NIO's encoder would send it unframed).
/// - The target, by ``RequestTarget`` (`400`).
///
/// The one request it changes: `M-SEARCH`, which NIO would otherwise forward as `MSEARCH`.
final class RequestScreening: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A refused request: the status and why.
    struct Refusal: Error, Equatable, Sendable {
        let status: HTTPResponseStatus
        let code: String
        let message: String

        init(_ status: HTTPResponseStatus, _ code: String, _ message: String) {
            self.status = status
            self.code = code
            self.message = message
        }

        init(_ target: RequestTarget.Refusal) {
            self.init(.badRequest, target.code, target.message)
        }
    }

    private let logger: Logger
    private var refused = false
    /// Requests passed on whose answers have not ended: a refusal waits for them (answers go
    /// out in request order).
    private var answersOwed = 0
    private var pendingRefusal: (head: HTTPRequestHead, refusal: Refusal)?

    init(logger: Logger) {
        self.logger = logger
    }

    /// What screening learned about an admitted request, so that nothing parses it twice.
    struct Screened {
        /// The target decision: the path admission is decided on and the target sent upstream.
        let target: RequestTarget
        /// The body's announced length (`0`: none); `nil`: chunked.
        let bodyLength: Int?
        /// The `Host` field (checked: one, plain); `nil` in an HTTP/1.0 request without one.
        let host: String?
    }

    /// Why `head` is refused, or `nil` when it may go on.
    static func check(_ head: HTTPRequestHead) -> Refusal? {
        do {
            _ = try screen(head)
            return nil
        } catch {
            return error
        }
    }

    /// Screens `head`: what it says about itself, or why it is refused. One pass over the
    /// fields, no copies of their values (this runs on every request).
    static func screen(_ head: HTTPRequestHead) throws(Refusal) -> Screened {
        if head.method == .CONNECT {
            throw Refusal(.badRequest, "connect_refused", "This gateway is not a forward proxy: CONNECT is refused.")
        }
        var host: String?
        var hosts = 0
        var encoding: String?
        var encodings = 0
        var length: String?
        var lengths = 0
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 4 where ProxyHeaders.equalsIgnoringASCIICase(name, "host".utf8):
                hosts += 1
                host = value
            case 14 where ProxyHeaders.equalsIgnoringASCIICase(name, "content-length".utf8):
                lengths += 1
                length = value
            case 17 where ProxyHeaders.equalsIgnoringASCIICase(name, "transfer-encoding".utf8):
                encodings += 1
                encoding = value
            default:
                continue
            }
        }
        try checkHost(host, count: hosts, version: head.version)
        // Framing (RFC 9112 §6).
        var bodyLength: Int? = 0
        if let encoding {
            if head.version == .http1_0 {
                throw Refusal(.badRequest, "bad_framing", "Transfer-Encoding is not part of HTTP/1.0.")
            }
            guard encodings == 1, isChunked(encoding) else {
                throw Refusal(.notImplemented, "unsupported_transfer_encoding", "Only Transfer-Encoding: chunked is supported.")
            }
            if lengths > 0 {
                throw Refusal(.badRequest, "bad_framing", "A request cannot carry both Content-Length and Transfer-Encoding.")
            }
            bodyLength = nil
        }
        if let length {
            guard lengths == 1, let count = contentLength(length) else {
                throw Refusal(.badRequest, "bad_framing", "Content-Length must be one decimal number.")
            }
            bodyLength = count
        }
        if head.method == .TRACE, bodyLength != 0 {
            throw Refusal(.badRequest, "bad_framing", "A TRACE request cannot carry a body.")
        }
        do {
            return Screened(target: try RequestTarget(head.uri), bodyLength: bodyLength, host: host)
        } catch {
            throw Refusal(error)
        }
    }

    private static func checkHost(_ host: String?, count: Int, version: HTTPVersion) throws(Refusal) {
        if count > 1 {
            throw Refusal(.badRequest, "bad_host", "A request must carry exactly one Host header.")
        }
        guard let host else {
            guard version == .http1_0 else {
                throw Refusal(.badRequest, "bad_host", "An HTTP/1.1 request must carry a Host header.")
            }
            return
        }
        let allowed = { (byte: UInt8) -> Bool in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"),
                UInt8(ascii: "["), UInt8(ascii: "]"):
                true
            default: false
            }
        }
        guard !host.isEmpty, host.utf8.count <= 255, host.utf8.allSatisfy(allowed) else {
            throw Refusal(.badRequest, "bad_host", "The Host header must be a plain host name or address and port.")
        }
    }

    /// Exactly `chunked`, in any letter case, with optional whitespace around it.
    private static func isChunked(_ value: String) -> Bool {
        ProxyHeaders.equalsIgnoringASCIICase(String(value.trimmingWhitespace()), "chunked".utf8)
    }

    /// A `Content-Length` value: decimal digits only (no sign, no spaces inside, no list).
    static func contentLength(_ value: String) -> Int? {
        let digits = value.trimmingWhitespace()
        guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(digits)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        do {
            _ = try Self.screen(head)
        } catch {
            refused = true
            guard answersOwed == 0 else {
                pendingRefusal = (head, error)
                return
            }
            return Self.refuse(head, error, context: context, logger: logger)
        }
        answersOwed += 1
        guard !Self.renameMethod(&head) else { return context.fireChannelRead(wrapInboundOut(.head(head))) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data), answersOwed > 0 else { return }
        answersOwed -= 1
        if answersOwed == 0, let (head, refusal) = pendingRefusal {
            pendingRefusal = nil
            Self.refuse(head, refusal, context: context, logger: logger)
        }
    }

    /// NIO reads `M-SEARCH` as `.MSEARCH`, whose name it writes as `MSEARCH`: the method goes
    /// on as received. Whether `head` changed.
    static func renameMethod(_ head: inout HTTPRequestHead) -> Bool {
        guard head.method == .MSEARCH else { return false }
        head.method = .RAW(value: "M-SEARCH")
        return true
    }

    /// Answers a refused request on `context` (JSON: the code and why), logs it, and closes the
    /// connection once the answer is out.
    static func refuse(_ head: HTTPRequestHead, _ refusal: Refusal, context: ChannelHandlerContext, logger: Logger) {
        logger.notice(
            "request refused before admission",
            metadata: ["method": "\(head.method.rawValue.prefix(24))", "reason": "\(refusal.code)"])
        let body = ByteBuffer(string: #"{"error":"\#(refusal.code)","error_description":"\#(refusal.message)"}"#)
        let headers: HTTPHeaders = [
            "Connection": "close", "Content-Type": "application/json", "Cache-Control": "no-store",
            "Content-Length": String(body.readableBytes),
        ]
        let responseHead = HTTPResponseHead(version: .http1_1, status: refusal.status, headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
        if head.method != .HEAD { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RequestScreening: Sendable {}
