import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An upstream that frames requests strictly (RFC 9112: `Content-Length` or chunked, never
/// both; anything else is logged as `garbage` and the connection closed) and logs each request
/// it reads, so a test sees every request that reached it — including one smuggled inside
/// another's body. It answers by the last segment of the path, some answers misbehaving on
/// purpose:
///
/// - `extra-complete`: `ok`, then in the same write a second, unsolicited response `stolen`;
/// - `extra-partial`: `ok`, then in the same write the start of another response;
/// - `late-extra`: `ok`, then 100 ms later an unsolicited response `stolen`;
/// - `info-102`, `info-199`, `info-103`, `info-100`: that informational response, then `ok`;
/// - `switch`: `101 Switching Protocols` to a plain request;
/// - anything else: `200` whose body is `METHOD TARGET` of the request it answers.
final class FramingUpstream: Sendable {
    struct Logged: Sendable, Equatable {
        var method: String
        var target: String
        /// Which of the upstream's connections it came on (1, 2, …).
        var connection = 0
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> [String] {
            headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
        }

        static func == (lhs: Logged, rhs: Logged) -> Bool {
            lhs.method == rhs.method && lhs.target == rhs.target && lhs.body == rhs.body
        }
    }

    let port: Int
    private let state: NIOLockedValueBox<(requests: [Logged], connections: Int)>

    var requests: [Logged] { state.withLockedValue { $0.requests } }
    var connections: Int { state.withLockedValue { $0.connections } }

    private init(port: Int, state: NIOLockedValueBox<(requests: [Logged], connections: Int)>) {
        self.port = port
        self.state = state
    }

    static func with<T: Sendable>(_ body: (FramingUpstream) async throws -> T) async throws -> T {
        let state = NIOLockedValueBox((requests: [Logged](), connections: 0))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = state.withLockedValue {
                    $0.connections += 1
                    return $0.connections
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state, connection: number))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        return try await body(FramingUpstream(port: channel.localAddress?.port ?? 0, state: state))
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let state: NIOLockedValueBox<(requests: [Logged], connections: Int)>
        let connection: Int
        var bytes: [UInt8] = []

        init(state: NIOLockedValueBox<(requests: [Logged], connections: Int)>, connection: Int) {
            self.state = state
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += Array(buffer: unwrapInboundIn(data))
            while true {
                switch Self.take(&bytes) {
                case .needMore: return
                case .garbage:
                    state.withLockedValue {
                        $0.requests.append(Logged(method: "garbage", target: "", headers: [], body: []))
                    }
                    context.close(promise: nil)
                    return
                case .request(var request):
                    request.connection = connection
                    state.withLockedValue { $0.requests.append(request) }
                    answer(request, context: context)
                }
            }
        }

        private func answer(_ request: Logged, context: ChannelHandlerContext) {
            func response(_ body: String, status: String = "200 OK") -> String {
                "HTTP/1.1 \(status)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let text: String
            switch request.target.split(separator: "/").last.map(String.init) ?? "" {
            case "extra-complete": text = response("ok") + response("stolen")
            case "extra-partial": text = response("ok") + "HTTP/1.1 200 OK\r\nX-Stolen: "
            case "late-extra":
                text = response("ok")
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                let stolen = response("stolen")
                loop.scheduleTask(in: .milliseconds(100)) {
                    bound.value.writeAndFlush(NIOAny(ByteBuffer(string: stolen)), promise: nil)
                }
            case "info-102": text = "HTTP/1.1 102 Processing\r\n\r\n" + response("ok")
            case "info-199": text = "HTTP/1.1 199 Odd\r\n\r\n" + response("ok")
            case "info-103": text = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + response("ok")
            case "info-100": text = "HTTP/1.1 100 Continue\r\n\r\n" + response("ok")
            case "switch": text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"
            default: text = response("\(request.method) \(request.target)")
            }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }

        enum Taken {
            case needMore
            case garbage
            case request(Logged)
        }

        /// One strictly framed request from the front of `bytes`.
        static func take(_ bytes: inout [UInt8]) -> Taken {
            let terminator: [UInt8] = Array("\r\n\r\n".utf8)
            guard let headEnd = bytes.firstRange(of: terminator) else { return bytes.count > 65536 ? .garbage : .needMore }
            let lines = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let requestLine = lines[0].split(separator: " ", omittingEmptySubsequences: false)
            guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return .garbage }
            var headers: [(String, String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" ") else { return .garbage }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let lengths = headers.filter { $0.0.lowercased() == "content-length" }.map(\.1)
            let encodings = headers.filter { $0.0.lowercased() == "transfer-encoding" }.map(\.1)
            var position = headEnd.upperBound
            var body: [UInt8] = []
            if !encodings.isEmpty {
                guard lengths.isEmpty, encodings == ["chunked"] else { return .garbage }
                while true {
                    guard let lineEnd = bytes[position...].firstRange(of: Array("\r\n".utf8)) else { return .needMore }
                    guard let size = Int(String(decoding: bytes[position..<lineEnd.lowerBound], as: UTF8.self), radix: 16)
                    else { return .garbage }
                    position = lineEnd.upperBound
                    if size == 0 {
                        guard bytes.count >= position + 2 else { return .needMore }
                        guard bytes[position] == 13, bytes[position + 1] == 10 else { return .garbage }  // no trailers
                        position += 2
                        break
                    }
                    guard bytes.count >= position + size + 2 else { return .needMore }
                    body += bytes[position..<(position + size)]
                    position += size
                    guard bytes[position] == 13, bytes[position + 1] == 10 else { return .garbage }
                    position += 2
                }
            } else if let length = lengths.first {
                guard lengths.count == 1, let count = Int(length), count >= 0 else { return .garbage }
                guard bytes.count >= position + count else { return .needMore }
                body = Array(bytes[position..<(position + count)])
                position += count
            }
            bytes.removeFirst(position)
            return .request(Logged(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body))
        }
    }
}
