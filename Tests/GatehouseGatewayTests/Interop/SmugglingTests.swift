import Foundation
import Testing

/// No request the gateway did not admit reaches the upstream, and no answer reaches the wrong
/// client. On 5158695 a `TRACE` with a body was sent with its framing removed (NIO's encoder
/// deems TRACE bodiless) but its body written, so the upstream read the body as a request of
/// its own; `GET /admin/secret#/../../public` passed as a skip-auth route and reached the
/// upstream as `/admin/secret`; a pooled connection holding the start of an unsolicited
/// response served the next request. Every request here goes through a strictly framing
/// upstream (``FramingUpstream``) that logs what it reads.
@Suite("Request smuggling and desync")
struct SmugglingTests {
    static let smuggled = "GET /admin/secret HTTP/1.1\r\nHost: x\r\nX-Forwarded-User: admin\r\n\r\n"

    private func withGateway(direct: Bool, _ body: (Int, FramingUpstream) async throws -> Void) async throws {
        try await FramingUpstream.with { upstream in
            try await GatewayFixture.with(environment: [
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/public",
                "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
            ]) { fixture in
                try await body(try #require(URL(string: fixture.baseURL)?.port), upstream)
            }
        }
    }

    @Test(arguments: [true, false])
    func bodiesNeverBecomeRequests(direct: Bool) async throws {
        try await withGateway(direct: direct) { port, upstream in
            let payload = Self.smuggled
            let chunked = String(payload.utf8.count, radix: 16) + "\r\n" + payload + "\r\n0\r\n\r\n"
            let host = "Host: 127.0.0.1:\(port)\r\n"
            // Refused before anything is forwarded: TRACE with a body, odd framing.
            let refused: [(String, Int)] = [
                ("TRACE /public/x HTTP/1.1\r\n\(host)Content-Length: \(payload.utf8.count)\r\n\r\n\(payload)", 400),
                ("TRACE /public/x HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n\(chunked)", 400),
                ("POST /public/x HTTP/1.1\r\n\(host)Transfer-Encoding: gzip, chunked\r\n\r\n\(chunked)", 501),
                ("POST /public/x HTTP/1.0\r\n\(host)Transfer-Encoding: chunked\r\n\r\n\(chunked)", 400),
                ("GET /public/x HTTP/1.1\r\n\r\n", 400),
                ("GET /public/x HTTP/1.1\r\n\(host)\(host)\r\n", 400),
            ]
            for (request, status) in refused {
                let (responses, closed) = try await RawHTTPClient.exchange(port: port, request, count: 2)
                #expect(responses.map(\.status) == [status], "\(request.prefix(60))")
                #expect(closed, "a refused request closes its connection")
                #expect(responses.first?.body.contains("error") == true, "the answer says what is wrong")
            }
            #expect(upstream.requests.isEmpty, "refused requests reached the upstream: \(upstream.requests.map(\.target))")

            // Forwarded with their framing: the body arrives as a body, once.
            // (HEAD too, but the raw client here cannot frame answers to HEAD.)
            for method in ["GET", "OPTIONS", "DELETE", "POST", "PATCH"] {
                let before = upstream.requests.count
                let request =
                    "\(method) /public/\(method) HTTP/1.1\r\n\(host)Content-Length: \(payload.utf8.count)\r\n\r\n\(payload)"
                    + "GET /public/after HTTP/1.1\r\n\(host)\r\n"
                let (responses, _) = try await RawHTTPClient.exchange(port: port, request, count: 2)
                #expect(responses.map(\.status) == [200, 200], "\(method)")
                let seen = upstream.requests.dropFirst(before)
                #expect(seen.map(\.target) == ["/public/\(method)", "/public/after"], "\(method)")
                #expect(seen.first?.body == Array(payload.utf8), "\(method): the body arrives whole, as a body")
            }
            let chunkedPost = "POST /public/chunked HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n\(chunked)"
            let (answers, _) = try await RawHTTPClient.exchange(port: port, chunkedPost, count: 1)
            #expect(answers.first?.status == 200)
            #expect(upstream.requests.last?.body == Array(payload.utf8))
            #expect(!upstream.requests.contains { $0.target == "/admin/secret" || $0.method == "garbage" })
        }
    }

    @Test(arguments: [true, false])
    func admissionPathIsTheForwardedPath(direct: Bool) async throws {
        try await withGateway(direct: direct) { port, upstream in
            let targets = [
                "/admin/secret#/../../public", "/public/../admin/secret", "/public/%2e%2e/admin/secret",
                "/public/..;/admin/secret", "/public/%252e%252e/admin/secret", "/public/..%2fadmin/secret",
                "/public%00/../admin", "//public/../admin/secret", "//oauth2/auth",
            ]
            let webSocket = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            for target in targets {
                for extra in ["", webSocket] {
                    let request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: application/json\r\n\(extra)\r\n"
                    let (responses, _) = try await RawHTTPClient.exchange(port: port, request, count: 1)
                    #expect(responses.first?.status == 400, "\(target) \(extra.isEmpty ? "" : "(WebSocket)"): \(responses.first?.status ?? 0)")
                }
            }
            #expect(upstream.requests.isEmpty, "reached the upstream: \(upstream.requests.map(\.target))")
            // What is forwarded is exactly what was decided on.
            for target in ["/public/x?y=%2e%2e/z", "/public/a|b"] {
                let request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
                let (responses, _) = try await RawHTTPClient.exchange(port: port, request, count: 1)
                #expect(responses.first?.status == 200, "\(target)")
            }
            #expect(upstream.requests.map(\.target) == ["/public/x?y=%2e%2e/z", "/public/a%7Cb"])
            // %2F is opaque: never public.
            let opaque = "GET /public%2Fx HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: application/json\r\n\r\n"
            #expect(try await RawHTTPClient.exchange(port: port, opaque, count: 1).responses.first?.status == 401)
        }
    }

    /// The direct path's own pool: an upstream connection that shows a sign of desync is closed
    /// before it serves another request (the router's HTTP client has its own state machine).
    /// Two requests pipelined on one client connection are served in turn on the same event
    /// loop, so the second would reuse the first's upstream connection.
    @Test func desynchronisedUpstreamConnectionsServeNobodyElse() async throws {
        try await withGateway(direct: true) { port, upstream in
            let host = "Host: 127.0.0.1:\(port)\r\n"
            for mode in ["extra-complete", "extra-partial", "info-102", "info-199", "info-103", "info-100"] {
                let requests = "GET /public/\(mode) HTTP/1.1\r\n\(host)\r\nGET /public/next-\(mode) HTTP/1.1\r\n\(host)\r\n"
                let (answers, _) = try await RawHTTPClient.exchange(port: port, requests, count: 2)
                #expect(answers.map(\.status) == [200, 200], "\(mode)")
                #expect(answers.map(\.body) == ["ok", "GET /public/next-\(mode)"], "\(mode)")
                #expect(answers.last?.header("X-Stolen") == nil, "\(mode): another answer's start was prepended")
            }
            // Each suspect connection served its one request and nothing after it.
            let log = upstream.requests
            for mode in ["extra-complete", "extra-partial", "info-102", "info-199"] {
                let index = try #require(log.firstIndex { $0.target == "/public/\(mode)" })
                let later = log[(index + 1)...].filter { $0.connection == log[index].connection }
                #expect(later.isEmpty, "\(mode): its connection served \(later.map(\.target)) afterwards")
            }
            #expect(log.filter { $0.target.hasPrefix("/public/next-") }.count == 6, "each request reached the upstream once")
            // A 101 to a plain request: the answer cannot be relayed.
            let switched = "GET /public/switch HTTP/1.1\r\n\(host)\r\n"
            #expect(try await RawHTTPClient.exchange(port: port, switched, count: 1).responses.first?.status == 502)
            // Bytes arriving on an idle pooled connection close it; later requests get their own answers.
            let late = "GET /public/late-extra HTTP/1.1\r\n\(host)\r\n"
            #expect(try await RawHTTPClient.exchange(port: port, late, count: 1).responses.first?.body == "ok")
            try await Task.sleep(for: .milliseconds(300))
            for index in 0..<4 {
                let next = "GET /public/after-\(index) HTTP/1.1\r\n\(host)\r\n"
                let answer = try await RawHTTPClient.exchange(port: port, next, count: 1).responses.first
                #expect(answer?.body == "GET /public/after-\(index)")
            }
        }
    }
}
