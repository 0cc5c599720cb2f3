import NIOCore

/// In front of the response decoder of a pooled upstream connection: closes the connection at
/// the first byte that cannot belong to the answer of the request in flight, before the
/// connection can serve anyone else (a desynchronised upstream — one that read part of a body
/// as a request of its own — answers twice, and the second answer would go to the next user).
///
/// - A byte while no request is outstanding (the connection is idle in its pool).
/// - A byte after the end of a complete response in the same read: each read is handed to the
///   decoder in two steps, all but its last byte and then the last byte, so a response that
///   ends in the first step was followed by at least one more byte. (NIO's decoder reports a
///   second complete response with no request outstanding itself; this also catches the start
///   of one, which it would otherwise hold and prepend to the next request's answer.) A
///   connection whose response ends during a read goes back to its pool only after the read
///   is checked, so no request is written to it before.
final class UpstreamDesyncGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connection: UpstreamConnection

    init(connection: UpstreamConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard connection.awaitsResponse else {
            return connection.desynchronised("bytes with no request outstanding")
        }
        connection.readStarted()
        defer { connection.readFinished() }
        if buffer.readableBytes > 1, let head = buffer.readSlice(length: buffer.readableBytes - 1) {
            let completed = connection.completedResponses
            context.fireChannelRead(wrapInboundOut(head))
            guard connection.completedResponses == completed else {
                return connection.desynchronised("bytes after a complete response")
            }
            guard connection.awaitsResponse else { return }  // closed meanwhile
        }
        context.fireChannelRead(wrapInboundOut(buffer))
    }
}

@available(*, unavailable)
extension UpstreamDesyncGuard: Sendable {}
