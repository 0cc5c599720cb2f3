import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An upstream that misbehaves at the connection level, for the few cases a well-behaved
/// server cannot show: it reads request heads (no bodies) and answers by path:
///
/// - `/partial`: a head promising 100 bytes, 7 of them, then it closes;
/// - `/silent`: no answer at all (the connection stays open);
/// - `/chunked`: `ok-chunked` in two chunks, on any number of requests per connection;
/// - `/slow`: `ok-slow` two seconds later;
/// - anything else: `200` with the body `ok`, keep-alive as far as the head says; but a
///   connection that already answered once is closed, unanswered, when a second request
///   arrives on it (a server dropping idle keep-alive connections at the worst moment).
///
/// `accepted` counts the connections it took, `closed` those that have ended since.
final class RawUpstream: Sendable {
    let port: Int
    private let channel: any Channel
    private let counts: NIOLockedValueBox<(accepted: Int, closed: Int)>

    var accepted: Int { counts.withLockedValue { $0.accepted } }
    var closed: Int { counts.withLockedValue { $0.closed } }

    private init(port: Int, channel: any Channel, counts: NIOLockedValueBox<(accepted: Int, closed: Int)>) {
        self.port = port
        self.channel = channel
        self.counts = counts
    }

    static func with<T: Sendable>(_ body: (RawUpstream) async throws -> T) async throws -> T {
        let counts = NIOLockedValueBox((accepted: 0, closed: 0))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counts.withLockedValue { $0.accepted += 1 }
                channel.closeFuture.whenComplete { _ in counts.withLockedValue { $0.closed += 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        return try await body(RawUpstream(port: channel.localAddress?.port ?? 0, channel: channel, counts: counts))
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private var received = ""
        private var answered = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
            while let end = received.range(of: "\r\n\r\n") {
                let head = received[..<end.lowerBound]
                received = String(received[end.upperBound...])
                let path = head.split(separator: " ").dropFirst().first ?? ""
                if path == "/silent" { continue }
                if answered > 0 {
                    context.close(promise: nil)
                    return
                }
                answered += 1
                if path == "/chunked" {
                    let reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok-\r\n7\r\nchunked\r\n0\r\n\r\n"
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
                    continue
                }
                if path == "/slow" {
                    let reply = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nok-slow"
                    context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) {
                        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
                    }
                    continue
                }
                if path == "/partial" {
                    let reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply))).assumeIsolated().whenComplete { _ in
                        context.close(promise: nil)
                    }
                    return
                }
                let reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
            }
        }
    }
}
