import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Writes bytes on one TCP connection and reads HTTP/1.1 responses framed by
/// `Content-Length`, for what an HTTP client library hides: pipelining, and whether the server
/// closed the connection.
enum RawHTTPClient {
    struct Response {
        var status: Int
        var head: String
        var body: String

        func header(_ name: String) -> String? {
            head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Sends `request` (then half-closes the connection with `halfClose`) and reads up to
    /// `count` responses; `closed` tells whether the server closed the connection after them
    /// (waited for up to `closeWait`).
    static func exchange(
        port: Int, _ request: String, count: Int, halfClose: Bool = false, closeWait: Duration = .milliseconds(500)
    ) async throws -> (responses: [Response], closed: Bool) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        // Deadlines close the connection and say so (the stream then simply ends).
        let timedOut = NIOLockedValueBox(false)
        let raw = channel.channel
        func deadline(_ after: Duration) -> Scheduled<Void> {
            raw.eventLoop.scheduleTask(in: TimeAmount(after)) {
                timedOut.withLockedValue { $0 = true }
                raw.close(promise: nil)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            if halfClose { outbound.finish() }  // FIN after the request; reading goes on
            var bytes: [UInt8] = []
            var responses: [Response] = []
            var iterator = inbound.makeAsyncIterator()
            let overall = deadline(.seconds(10))
            defer { overall.cancel() }
            while responses.count < count {
                if let response = take(&bytes) {
                    responses.append(response)
                    continue
                }
                guard let chunk = try? await iterator.next() else {
                    // A body without a length ends with the connection.
                    if let last = take(&bytes, atEnd: true) { responses.append(last) }
                    return (responses, !timedOut.withLockedValue { $0 })
                }
                bytes += chunk.readableBytesView
            }
            overall.cancel()
            let wait = deadline(closeWait)
            defer { wait.cancel() }
            let next = try? await iterator.next()
            return (responses, next == nil && !timedOut.withLockedValue { $0 })
        }
    }

    /// One complete response from the front of `bytes`, removed from it. A response without
    /// `Content-Length` (no chunked decoding here) is complete only `atEnd` of the stream.
    private static func take(_ bytes: inout [UInt8], atEnd: Bool = false) -> Response? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let declared = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
        let bodyStart = end + separator.count
        guard declared != nil || atEnd else { return nil }
        let length = declared ?? (bytes.count - bodyStart)
        guard bytes.count >= bodyStart + length else { return nil }
        let body = String(decoding: bytes[bodyStart..<(bodyStart + length)], as: UTF8.self)
        bytes.removeFirst(bodyStart + length)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Response(status: status, head: head, body: body)
    }
}
