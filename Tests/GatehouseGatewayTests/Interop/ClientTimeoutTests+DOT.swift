import AsyncHTTPClient
import Foundation
import GatehouseTestSupport
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import GatehouseGateway

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension ClientTimeoutTests {
    /// Slowloris: a head that never ends is cut off after the timeout (not at the test
    /// client's own 10-second deadline).
    @Test(arguments: [true, false])
    func unfinishedHeadIsCutOff(direct: Bool) async throws {
        try await Self.withGateway(direct: direct) { port in
            let started = ContinuousClock.now
            let (responses, closed) = try await RawHTTPClient.exchange(
                port: port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n", count: 1)
            #expect(responses.isEmpty)
            #expect(closed, "the gateway must close the connection itself")
            #expect(ContinuousClock.now - started >= .milliseconds(900))
        }
    }

    @Test(arguments: [true, false])
    func idleKeepAliveConnectionIsClosedButASlowAnswerIsAwaited(direct: Bool) async throws {
        try await Self.withGateway(direct: direct) { port in
            // A two-second answer with a one-second timeout: the wait is the gateway's, not the
            // client's, so the connection stays.
            let slow = try await RawHTTPClient.exchange(
                port: port, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", count: 1, closeWait: .seconds(4))
            #expect(slow.responses.first?.status == 200)
            #expect(slow.responses.first?.body == "ok-slow")
            // Then nothing more comes: the idle connection is closed within the 4 s wait.
            #expect(slow.closed)
        }
    }

    /// One byte every 200 ms (5 B/s) against 1000 B/s over 1 s windows: the body is cut off
    /// after the first window, with `408` (no answer had started) — although every byte is
    /// progress for the read timeout (30 s here) — and the upstream's request is torn down
    /// too. Before the rule, the connection stayed open as long as the bytes came.
    @Test(arguments: [(true, false), (true, true), (false, false), (false, true)])
    func trickledBodyIsCutOff(direct: Bool, chunked: Bool) async throws {
        try await Self.withBodyGateway(
            direct: direct, configure: { $0.minimumBodyRate = MinimumBodyRate(bytesPerSecond: 1000, window: .seconds(1)) }
        ) { port, upstream in
            let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: 100000"
            let head = "POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\n\(framing)\r\n\r\n"
            let (reply, closedAfter) = try await TrickleClient.run(
                port: port, head: head, piece: chunked ? "1\r\na\r\n" : "a", every: .milliseconds(200), limit: .seconds(8))
            let after = try #require(closedAfter, "the gateway must close a trickling upload itself")
            #expect(after >= .milliseconds(900) && after < .seconds(5), "closed after \(after)")
            #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
            #expect(reply.lowercased().contains("connection: close"))
            // The upstream saw its request start and then end unfinished.
            #expect(await upstream.waitUntil { $0.started == 1 && $0.aborted == 1 }, "\(upstream.counts)")
        }
    }

    /// Fast uploads pass: 64 MiB at once, and 7.5 MiB paced at about 2.5 MiB/s over three
    /// windows of 1 s against 16 KiB/s (each window is judged on its own; the margin is wide
    /// because a busy test machine can stall the client for a while).
    @Test(arguments: [true, false])
    func fastUploadsPass(direct: Bool) async throws {
        try await Self.withBodyGateway(
            direct: direct,
            configure: { $0.minimumBodyRate = MinimumBodyRate(bytesPerSecond: 16 * 1024, window: .seconds(1)) }
        ) { port, _ in
            let large = try await Self.upload(port: port, path: "/sink", chunks: 256, chunkSize: 256 * 1024, pause: nil)
            #expect(large == "\(256 * 256 * 1024)")
            let paced = try await Self.upload(
                port: port, path: "/sink", chunks: 30, chunkSize: 256 * 1024, pause: .milliseconds(100))
            #expect(paced == "\(30 * 256 * 1024)")
        }
    }

    /// An upstream that reads nothing for 2 s (64 MiB fill every buffer on the way, so the
    /// gateway stops reading the client): the stall is not the client's, so neither the 1 s
    /// read timeout nor the body rate closes the upload. Before, the read timeout counted the
    /// gateway's own wait and closed it.
    @Test(arguments: [true, false])
    func stalledUpstreamIsNotTheClientsDelay(direct: Bool) async throws {
        try await Self.withBodyGateway(
            direct: direct,
            configure: {
                $0.clientTimeout = .seconds(1)
                $0.minimumBodyRate = MinimumBodyRate(bytesPerSecond: 16 * 1024, window: .seconds(1))
            }
        ) { port, _ in
            let answer = try await Self.upload(port: port, path: "/sink-late", chunks: 256, chunkSize: 256 * 1024, pause: nil)
            #expect(answer == "\(256 * 256 * 1024)")
        }
    }

    /// The rule is about request bodies only: a download dripping for 3 s (10 pieces, 300 ms
    /// apart), after a GET and after a POST whose small body came at once, arrives whole.
    @Test(arguments: [true, false])
    func slowDownloadIsNotCutOff(direct: Bool) async throws {
        try await Self.withBodyGateway(
            direct: direct,
            configure: {
                $0.clientTimeout = .seconds(1)
                $0.minimumBodyRate = MinimumBodyRate(bytesPerSecond: 1 << 20, window: .milliseconds(500))
            }
        ) { port, _ in
            for post in [false, true] {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/drip")
                if post {
                    request.method = .POST
                    request.body = .bytes(ByteBuffer(string: "small body"))
                }
                let response = try await DOTBrowser.http.execute(request, timeout: .seconds(20))
                #expect(response.status == .ok)
                let body = try await response.body.collect(upTo: 1 << 20)
                #expect(body.readableBytes == BodyUpstream.dripPieces * BodyUpstream.dripPieceSize, "POST: \(post)")
            }
        }
    }

    static func withGateway(direct: Bool, _ body: (Int) async throws -> Void) async throws {
        try await RawUpstream.with { upstream in
            try await GatewayFixture.with(
                environment: [
                    "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
                    "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
                ],
                configure: { $0.clientTimeout = .seconds(1) }
            ) { fixture in
                try await body(try #require(URL(string: fixture.baseURL)?.port))
            }
        }
    }

    /// Runs `body` with the gateway's port in front of a ``BodyUpstream``: skip-auth on every
    /// path, the direct path or the router, and `configure` for what no variable sets.
    static func withBodyGateway(
        direct: Bool, configure: @escaping (inout GatewayConfiguration) -> Void,
        _ body: (_ port: Int, _ upstream: BodyUpstream) async throws -> Void
    ) async throws {
        let upstream = BodyUpstream()
        try await TestServer.run(
            { onRunning in
                Application(
                    router: upstream.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }
        ) { upstreamPort in
            try await GatewayFixture.with(
                environment: [
                    "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
                    "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
                ],
                configure: configure
            ) { fixture in
                try await body(try #require(URL(string: fixture.baseURL)?.port), upstream)
            }
        }
    }

    /// POSTs `chunks` × `chunkSize` bytes (streamed, paused between chunks when asked) and
    /// returns the upstream's answer (the byte count it read).
    static func upload(port: Int, path: String, chunks: Int, chunkSize: Int, pause: Duration?) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.body = .stream(
            PacedBody(chunks: chunks, chunkSize: chunkSize, pause: pause), length: .known(Int64(chunks * chunkSize)))
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(60))
        #expect(response.status == .ok)
        return String(buffer: try await response.body.collect(upTo: 1024))
    }
}

/// The app behind the gateway for the body-rate tests:
///
/// - `POST /sink`: reads the body, answers its length;
/// - `POST /sink-late`: the same after 2 s of not reading;
/// - `GET`/`POST /drip`: (after reading any body) ``dripPieces`` pieces, 300 ms apart.
///
/// It counts requests to the sinks that started, and those whose body ended unfinished.
final class BodyUpstream: Sendable {
    static let dripPieces = 10
    static let dripPieceSize = 1000
    private let state = Mutex((started: 0, aborted: 0))

    var counts: (started: Int, aborted: Int) { state.withLock { $0 } }

    /// Polls (every 20 ms, up to 5 s) until `condition` holds for the counts.
    func waitUntil(_ condition: ((started: Int, aborted: Int)) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if condition(counts) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(counts)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/sink") { request, _ in try await self.sink(request, delay: nil) }
        router.post("/sink-late") { request, _ in try await self.sink(request, delay: .seconds(2)) }
        let drip: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            for try await _ in request.body {}
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    for _ in 0..<Self.dripPieces {
                        try await Task.sleep(for: .milliseconds(300))
                        try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: Self.dripPieceSize))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("/drip", use: drip)
        router.post("/drip", use: drip)
        return router
    }

    private func sink(_ request: Request, delay: Duration?) async throws -> String {
        state.withLock { $0.started += 1 }
        if let delay { try await Task.sleep(for: delay) }
        var count = 0
        do {
            for try await buffer in request.body { count += buffer.readableBytes }
        } catch {
            state.withLock { $0.aborted += 1 }
            throw error
        }
        return "\(count)"
    }
}

/// A request body made chunk by chunk, with an optional pause before each.
private struct PacedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: Int
    let chunkSize: Int
    let pause: Duration?

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: PacedBody
        var index = 0

        mutating func next() async throws -> ByteBuffer? {
            guard index < body.chunks else { return nil }
            index += 1
            if let pause = body.pause { try await Task.sleep(for: pause) }
            return ByteBuffer(repeating: UInt8(truncatingIfNeeded: index), count: body.chunkSize)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

/// A raw client that sends a request head, then `piece` every `every`, and reads whatever
/// comes back until the server closes (or `limit` passes: then `closedAfter` is `nil`).
enum TrickleClient {
    static func run(
        port: Int, head: String, piece: String, every: Duration, limit: Duration
    ) async throws -> (reply: String, closedAfter: Duration?) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let started = ContinuousClock.now
        let timedOut = NIOLockedValueBox(false)
        let raw = channel.channel
        let deadline = raw.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            timedOut.withLockedValue { $0 = true }
            raw.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: head))
            let writer = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: every)
                    try await outbound.write(ByteBuffer(string: piece))
                }
            }
            defer { writer.cancel() }
            var reply = ""
            do {
                for try await chunk in inbound { reply += String(buffer: chunk) }
            } catch {
                // A reset after the answer: what was read stands.
            }
            let closedAfter = ContinuousClock.now - started
            return (reply, timedOut.withLockedValue { $0 } ? nil : closedAfter)
        }
    }
}
