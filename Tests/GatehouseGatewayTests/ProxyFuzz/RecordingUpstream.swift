import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The fuzzer's upstream on 127.0.0.1: reads raw TCP, splits it into requests with
/// ``StrictHTTP1Parser`` (``StrictHTTP1Parser/Mode/upstream``), records every request it sees
/// and answers each with a response that echoes the request's `X-Fuzz-Id` (header
/// `X-Fuzz-Echo` and the first body line), so that a client can tell its own answer from
/// anyone else's.
///
/// A request's `X-Fuzz-Upstream` field picks a hostile answer (``Answer``). After an answer
/// that leaves the connection unusable (an unsolicited response, bytes after the response, a
/// 1xx other than 100/103, a 101 to a plain request) the connection is kept open and marked:
/// a later request on it is recorded with ``Record/afterHostileAnswer``.
final class RecordingUpstream: Sendable {
    struct Record: Sendable {
        var connection: Int
        /// Position on its connection, from 0.
        var sequence: Int
        var request: StrictHTTP1Parser.Request?
        /// Why the bytes were not one unambiguous request (``StrictHTTP1Parser/Mode/upstream``).
        var malformed: String?
        /// The bytes as received (the first 2 KiB), for reports.
        var raw: [UInt8]
        /// The hostile answer sent earlier on this connection, if any.
        var afterHostileAnswer: String?

        var id: String? {
            guard let values = request?.values("x-fuzz-id"), values.count == 1 else { return nil }
            return values[0]
        }
    }

    /// What the upstream answers, from the request's `X-Fuzz-Upstream`.
    enum Answer: String, CaseIterable, Sendable {
        case normal, chunked, slow
        case continue100 = "interim-100", processing102 = "interim-102", earlyHints103 = "interim-103"
        case interim199 = "interim-199"
        case switching101 = "switching-101"
        case extraBytes = "extra-bytes"
        case unsolicited
        case closeBeforeAnswer = "close-before-answer"
        case closeInHead = "close-in-head"
        case closeInBody = "close-in-body"
        case untilClose = "until-close"

        /// Leaves the connection unusable for another request (the gateway must close it).
        var isHostile: Bool {
            switch self {
            case .processing102, .interim199, .switching101, .extraBytes, .unsolicited: true
            default: false
            }
        }
    }

    let port: Int
    private let log: NIOLockedValueBox<[Record]>

    var records: [Record] { log.withLockedValue { $0 } }

    private init(port: Int, log: NIOLockedValueBox<[Record]>) {
        self.port = port
        self.log = log
    }

    static func with<T: Sendable>(_ body: (RecordingUpstream) async throws -> T) async throws -> T {
        let log = NIOLockedValueBox<[Record]>([])
        let connections = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 512)
            .childChannelInitializer { channel in
                let number = connections.withLockedValue {
                    $0 += 1
                    return $0
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(connection: number, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        return try await body(RecordingUpstream(port: channel.localAddress?.port ?? 0, log: log))
    }

    /// The answer to `request` and the body that echoes it.
    static func echo(_ request: StrictHTTP1Parser.Request, id: String) -> (head: String, body: String) {
        let body = "echo:\(id)\n\(request.method) \(request.target)\n"
        return ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Fuzz-Echo: \(id)\r\n", body)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let connection: Int
        let log: NIOLockedValueBox<[Record]>
        private var buffer: [UInt8] = []
        private var sequence = 0
        private var hostile: String?
        /// A slow answer is pending: parse nothing more until it is sent.
        private var waiting = false
        private var closed = false

        init(connection: Int, log: NIOLockedValueBox<[Record]>) {
            self.connection = connection
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            buffer += unwrapInboundIn(data).readableBytesView
            process(context: context)
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed = true
            // A request whose head arrived but whose body did not.
            if !buffer.isEmpty, case .incomplete(let partial?) = StrictHTTP1Parser.parseRequest(buffer, from: 0, mode: .upstream) {
                record(partial, malformed: nil, raw: buffer)
                buffer = []
            }
            context.fireChannelInactive()
        }

        private func record(_ request: StrictHTTP1Parser.Request?, malformed: String?, raw: [UInt8]) {
            let entry = Record(
                connection: connection, sequence: sequence, request: request, malformed: malformed,
                raw: Array(raw.prefix(2048)), afterHostileAnswer: hostile)
            sequence += 1
            log.withLockedValue { $0.append(entry) }
        }

        private func process(context: ChannelHandlerContext) {
            while !waiting, !closed, !buffer.isEmpty {
                switch StrictHTTP1Parser.parseRequest(buffer, from: 0, mode: .upstream) {
                case .incomplete:
                    return
                case .invalid(let reason, _):
                    record(nil, malformed: reason, raw: buffer)
                    buffer = []
                    closed = true
                    context.close(promise: nil)
                    return
                case .request(let request):
                    record(request, malformed: nil, raw: Array(buffer[request.range]))
                    buffer.removeFirst(request.range.upperBound)
                    answer(request, context: context)
                }
            }
        }

        private func write(_ text: String, context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }

        private func answer(_ request: StrictHTTP1Parser.Request, context: ChannelHandlerContext) {
            let ids = request.values("x-fuzz-id")
            let id = ids.count == 1 ? ids[0] : "none"
            let mode = request.values("x-fuzz-upstream").first.flatMap(Answer.init(rawValue:)) ?? .normal
            let (head, body) = RecordingUpstream.echo(request, id: id)
            let isHead = request.method == "HEAD"
            let whole = head + "Content-Length: \(body.utf8.count)\r\n\r\n" + (isHead ? "" : body)
            if mode.isHostile { hostile = mode.rawValue }
            switch mode {
            case .normal:
                write(whole, context: context)
            case .chunked:
                let split = body.utf8.count / 2
                let first = String(body.prefix(split)), second = String(body.dropFirst(split))
                let chunks = isHead ? "" : String(first.utf8.count, radix: 16) + "\r\n" + first + "\r\n"
                    + String(second.utf8.count, radix: 16) + "\r\n" + second + "\r\n0\r\n\r\n"
                write(head + "Transfer-Encoding: chunked\r\n\r\n" + chunks, context: context)
            case .slow:
                waiting = true
                let delay = Int64(5 + (id.utf8.reduce(0) { $0 &+ Int($1) } % 40))
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) {
                    self.waiting = false
                    guard !self.closed else { return }
                    self.write(whole, context: context)
                    if request.endsConnection {
                        self.closed = true
                        context.close(promise: nil)
                    } else {
                        self.process(context: context)
                    }
                }
            case .continue100: write("HTTP/1.1 100 Continue\r\n\r\n" + whole, context: context)
            case .processing102: write("HTTP/1.1 102 Processing\r\n\r\n" + whole, context: context)
            case .earlyHints103: write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + whole, context: context)
            case .interim199: write("HTTP/1.1 199 Whatever\r\n\r\n" + whole, context: context)
            case .switching101:
                write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: fuzz\r\n\r\n" + whole, context: context)
            case .extraBytes:
                write(whole + "EXTRA-BYTES-AFTER-\(id)\r\n", context: context)
            case .unsolicited:
                let other = "unsolicited-" + id
                let extra = "echo:\(other)\n"
                write(
                    whole + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Fuzz-Echo: \(other)\r\nContent-Length: "
                        + "\(extra.utf8.count)\r\n\r\n" + extra, context: context)
            case .closeBeforeAnswer:
                closed = true
                context.close(promise: nil)
            case .closeInHead:
                closed = true
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Le"))).assumeIsolated()
                    .whenComplete { _ in context.close(promise: nil) }
            case .closeInBody:
                closed = true
                let partial = head + "Content-Length: \(body.utf8.count + 100)\r\n\r\n" + (isHead ? "" : body)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: partial))).assumeIsolated()
                    .whenComplete { _ in context.close(promise: nil) }
            case .untilClose:
                closed = true
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head + "Connection: close\r\n\r\n" + (isHead ? "" : body))))
                    .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
            if request.endsConnection, !closed, !waiting {
                closed = true
                context.close(promise: nil)
            }
        }
    }
}
