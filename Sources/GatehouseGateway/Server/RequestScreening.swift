import Logging
import NIOCore
import NIOHTTP1

/// Right after NIO's codec, before anything else sees a request (the direct path, the router,
/// the WebSocket handshake, Gatehouse's own endpoints): refuses every request whose framing or
/// target could be read two ways, answers why, and closes the connection — nothing of such a
/// request reaches the upstream. ``check(_:)`` is the decision (pure, tested on its own).
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
final class RequestScreening: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
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

    init(logger: Logger) {
        self.logger = logger
    }

    /// Why `head` is refused, or `nil` when it may go on.
    static func check(_ head: HTTPRequestHead) -> Refusal? {
        if head.method == .CONNECT {
            return Refusal(.badRequest, "connect_refused", "This gateway is not a forward proxy: CONNECT is refused.")
        }
        if let refusal = checkHost(head) { return refusal }
        if let refusal = checkFraming(head) { return refusal }
        do {
            _ = try RequestTarget(head.uri)
        } catch {
            return Refusal(error)
        }
        return nil
    }

    private static func checkHost(_ head: HTTPRequestHead) -> Refusal? {
        // Counted without collecting the values (this runs on every request).
        var host: String?
        for (name, value) in head.headers where name.utf8.count == 4 && ProxyHeaders.lowercasedASCII(name) == "host" {
            if host != nil {
                return Refusal(.badRequest, "bad_host", "A request must carry exactly one Host header.")
            }
            host = value
        }
        guard let host else {
            guard head.version == .http1_0 else {
                return Refusal(.badRequest, "bad_host", "An HTTP/1.1 request must carry a Host header.")
            }
            return nil
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
            return Refusal(.badRequest, "bad_host", "The Host header must be a plain host name or address and port.")
        }
        return nil
    }

    private static func checkFraming(_ head: HTTPRequestHead) -> Refusal? {
        let encodings = head.headers["transfer-encoding"]
        let lengths = head.headers["content-length"]
        if !encodings.isEmpty {
            if head.version == .http1_0 {
                return Refusal(.badRequest, "bad_framing", "Transfer-Encoding is not part of HTTP/1.0.")
            }
            guard encodings.count == 1, encodings[0].trimmingWhitespace().lowercased() == "chunked" else {
                return Refusal(.notImplemented, "unsupported_transfer_encoding", "Only Transfer-Encoding: chunked is supported.")
            }
            if !lengths.isEmpty {
                return Refusal(.badRequest, "bad_framing", "A request cannot carry both Content-Length and Transfer-Encoding.")
            }
        }
        var bodyLength = encodings.isEmpty ? 0 : 1
        if !lengths.isEmpty {
            guard lengths.count == 1, let length = contentLength(lengths[0]) else {
                return Refusal(.badRequest, "bad_framing", "Content-Length must be one decimal number.")
            }
            bodyLength = length
        }
        if head.method == .TRACE, bodyLength > 0 {
            return Refusal(.badRequest, "bad_framing", "A TRACE request cannot carry a body.")
        }
        return nil
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
        guard let refusal = Self.check(head) else {
            if head.method == .MSEARCH {
                // NIO reads `M-SEARCH` as `.MSEARCH`, whose name it writes as `MSEARCH`: the
                // method goes on as received.
                head.method = .RAW(value: "M-SEARCH")
                return context.fireChannelRead(wrapInboundOut(.head(head)))
            }
            return context.fireChannelRead(data)
        }
        refused = true
        logger.notice(
            "request refused before admission",
            metadata: ["method": "\(head.method.rawValue.prefix(24))", "reason": "\(refusal.code)"])
        let body = ByteBuffer(string: #"{"error":"\#(refusal.code)","error_description":"\#(refusal.message)"}"#)
        let headers: HTTPHeaders = [
            "Connection": "close", "Content-Type": "application/json", "Cache-Control": "no-store",
            "Content-Length": String(body.readableBytes),
        ]
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: refusal.status, headers: headers))), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RequestScreening: Sendable {}
