import AsyncHTTPClient
import Crypto
import Foundation
import GatehouseTestSupport
import Hummingbird
import Synchronization
import Testing

/// A 1 GiB download and a 1 GiB upload through `gatehouse serve` (a child process): both
/// arrive intact, and the gateway's resident memory stays far below the body's size — the
/// body streams, it never sits in memory.
@Suite("gatehouse serve streams large bodies")
struct LargeBodyStreamingTests {
    static let chunkSize = 256 * 1024
    static let chunkCount = 4096  // 1 GiB
    static let totalBytes = chunkSize * chunkCount
    /// The gateway's resident set may not grow past this while 1 GiB passes through.
    static let residentLimit = 256 * 1024 * 1024

    /// Chunk `index` of the test body: every byte `index % 251`, so reordering or loss changes
    /// the digest.
    static func chunk(_ index: Int) -> ByteBuffer {
        ByteBuffer(repeating: UInt8(index % 251), count: chunkSize)
    }

    /// SHA-256 of the whole test body (the chunks repeat with period 251: hashed once each).
    static func expectedDigest() -> String {
        let patterns = (0..<251).map { index in [UInt8](repeating: UInt8(index), count: chunkSize) }
        var hash = SHA256()
        for index in 0..<chunkCount { hash.update(data: patterns[index % 251]) }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func upstream() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/big") { _, _ in
            var headers = HTTPFields()
            headers[.contentLength] = String(totalBytes)
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    for index in 0..<chunkCount { try await writer.write(chunk(index)) }
                    try await writer.finish(nil)
                })
        }
        router.post("/upload") { request, _ in
            var hash = SHA256()
            var count = 0
            for try await buffer in request.body {
                count += buffer.readableBytes
                buffer.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
            }
            let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
            return "\(count) \(digest)"
        }
        return router
    }

    @Test func oneGibibyteEachWayStreamsThroughInBoundedMemory() async throws {
        let expected = Self.expectedDigest()
        try await TestServer.run(
            { onRunning in
                Application(
                    router: Self.upstream(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }
        ) { upstreamPort in
            let serve = try await ServeProcess(
                upstreamPort: upstreamPort, environment: ["GATEHOUSE_SKIP_AUTH_ROUTES": "/big,/upload"])
            defer { serve.stop() }
            let before = try #require(serve.residentBytes())
            let peak = Mutex(before)
            let sampler = Task {
                while !Task.isCancelled {
                    if let now = serve.residentBytes() { peak.withLock { $0 = max($0, now) } }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            defer { sampler.cancel() }

            // Download.
            let download = try await DOTBrowser.http.execute(HTTPClientRequest(url: serve.baseURL + "/big"), timeout: .seconds(300))
            #expect(download.status == .ok)
            #expect(download.headers.first(name: "content-length") == String(Self.totalBytes))
            var hash = SHA256()
            var received = 0
            for try await buffer in download.body {
                received += buffer.readableBytes
                buffer.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
            }
            #expect(received == Self.totalBytes)
            #expect(hash.finalize().map { String(format: "%02x", $0) }.joined() == expected)

            // Upload.
            var upload = HTTPClientRequest(url: serve.baseURL + "/upload")
            upload.method = .POST
            upload.body = .stream(TestBody(), length: .known(Int64(Self.totalBytes)))
            let answer = try await DOTBrowser.http.execute(upload, timeout: .seconds(300))
            #expect(answer.status == .ok)
            let text = String(buffer: try await answer.body.collect(upTo: 1024))
            #expect(text == "\(Self.totalBytes) \(expected)")

            sampler.cancel()
            let maximum = peak.withLock { $0 }
            #expect(
                maximum < Self.residentLimit,
                "gatehouse resident memory peaked at \(maximum >> 20) MiB (started at \(before >> 20) MiB)")
            print("large-body streaming: gatehouse resident memory \(before >> 20) MiB before, peak \(maximum >> 20) MiB, 2 GiB moved")
        }
    }
}

/// The test body as a lazy sequence: each chunk is made when the client asks for it, so the
/// test process does not hold the gibibyte either.
private struct TestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0

        mutating func next() async -> ByteBuffer? {
            guard index < LargeBodyStreamingTests.chunkCount else { return nil }
            defer { index += 1 }
            return LargeBodyStreamingTests.chunk(index)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}
