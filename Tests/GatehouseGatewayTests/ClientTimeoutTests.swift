import Foundation
import Testing

/// `GatewayConfiguration.clientTimeout` (``ClientReadTimeout``): a client that keeps the
/// gateway waiting for a request is disconnected; one waiting for a slow answer is not.
@Suite("Client read timeout")
struct ClientTimeoutTests {
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
}
