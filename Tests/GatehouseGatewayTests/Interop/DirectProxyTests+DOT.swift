import Foundation
import GatehouseHummingbird
import NIOHTTP1
import Testing
@testable import GatehouseGateway

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension DirectProxyTests {
    @Test func bothPathsSendTheUpstreamTheSameRequest() async throws {
        let direct = try await Self.upstreamView(direct: true)
        let router = try await Self.upstreamView(direct: false)
        #expect(direct.counts.direct == 1 && direct.counts.router == 0, "\(direct.counts)")
        #expect(router.counts.direct == 0 && router.counts.router == 1, "\(router.counts)")
        // The router path alone asks for an upstream connection of its own (ReverseProxy:
        // AsyncHTTPClient's pool cannot be told of signs of desync).
        #expect(router.fields.contains("connection: close"))
        #expect(direct.fields == router.fields.filter { $0 != "connection: close" })
        #expect(direct.fields.contains { $0.hasPrefix("x-forwarded-user: ") })
        #expect(!direct.fields.contains("x-forwarded-user: mallory"))
        #expect(direct.fields.contains("x-keep-me: 2"))
        #expect(!direct.fields.contains { $0.hasPrefix("x-drop-me") || $0.contains("6.6.6.6") || $0.contains("gatehouse=") })
        #expect(direct.fields.contains("cookie: theme=dark"))
    }

    /// Pooled upstream connections are shared by every client of an event loop: under load,
    /// each answer must still reach the client that asked, with that client's identity.
    @Test func concurrentClientsOnlyEverSeeTheirOwnAnswers() async throws {
        try await GatewayFixture.with { fixture in
            let users = [("alice", "alice-password-1", "alice@example.com"), ("bob", "bob-password-1", "bob@example.org")]
            var browsers: [(GatewayBrowser, String)] = []
            for index in 0..<4 {
                let (user, password, email) = users[index % 2]
                let browser = fixture.browser()
                try await browser.logIn(user: user, password: password)
                browsers.append((browser, email))
            }
            let mismatches = try await withThrowingTaskGroup(of: [String].self) { group in
                for (index, (browser, email)) in browsers.enumerated() {
                    for worker in 0..<8 {
                        group.addTask {
                            var wrong: [String] = []
                            for request in 0..<25 {
                                let path = "/app/\(index)/\(worker)/\(request)"
                                let echo = try await browser.send("GET", path + "?n=\(request)").echo()
                                if echo.path != path || echo.query != "n=\(request)" || echo.value("X-Forwarded-Email") != email {
                                    wrong.append("\(path) got \(echo.path) \(echo.value("X-Forwarded-Email") ?? "-")")
                                }
                            }
                            return wrong
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
            let counts = try await Self.proxiedCounts(fixture)
            #expect(counts.direct + counts.router == 800)
            #expect(counts.direct >= 700, "\(counts)")  // all but cache refreshes
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAcrossBothPaths() async throws {
        try await GatewayFixture.with { fixture in
            let (port, get) = try await Self.signedInGet(fixture)
            // Direct, router (Gatehouse's own endpoint), direct, direct, all in one write.
            let (responses, closed) = try await RawHTTPClient.exchange(
                port: port, get("/one") + get("/oauth2/userinfo") + get("/two") + get("/three?x=1"), count: 4)
            #expect(!closed)
            try #require(responses.count == 4)
            #expect(responses.map(\.status) == [200, 200, 200, 200])
            #expect(responses[0].body.contains(#""path":"\/one""#))
            #expect(responses[1].body.contains(#""subject""#))
            #expect(responses[2].body.contains(#""path":"\/two""#))
            #expect(responses[3].body.contains(#""path":"\/three""#))
            // The first went direct (the others were held behind it); the router's answer was
            // still owed when the last two were read, so they followed it through the router.
            let counts = try await Self.proxiedCounts(fixture)
            #expect(counts.direct == 1 && counts.router == 2, "\(counts)")
        }
    }

    /// A request screening refuses, pipelined behind others, is answered after their answers
    /// (found by the fuzzer: seed 16409242196748068304, case 28354, where the `400` overtook
    /// the answer still owed and the client took it for its first request's).
    @Test(arguments: [true, false]) func refusalWaitsForTheAnswersBeforeIt(direct: Bool) async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false"]) { fixture in
            let (port, get) = try await Self.signedInGet(fixture)
            let (responses, closed) = try await RawHTTPClient.exchange(
                port: port, get("/one") + get("/oauth2/userinfo") + get("/two%00") + get("/three"), count: 4)
            try #require(responses.count == 3, "\(responses.map(\.status))")
            #expect(responses.map(\.status) == [200, 200, 400])
            #expect(responses[0].body.contains(#""path":"\/one""#))
            #expect(responses[1].body.contains(#""subject""#))
            #expect(responses[2].body.contains("bad_request_target"))
            #expect(closed, "the connection closes after the refusal; /three is never read")
        }
    }

    /// Bytes that do not parse, pipelined behind a request the direct path is proxying, are
    /// answered (`400`) after that request's answer, never before it (a random fuzz run, seed
    /// 1186596657654435410, case 5444: the `400` overtook the answer, which the client then
    /// took for its next request's).
    @Test func parseErrorWaitsForTheExchangeInFlight() async throws {
        try await GatewayFixture.with { fixture in
            let (port, get) = try await Self.signedInGet(fixture)
            _ = try await RawHTTPClient.exchange(port: port, get("/warm"), count: 1)  // the session settles in the cache
            let request = get("/one") + "get /two HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
            let (responses, closed) = try await RawHTTPClient.exchange(port: port, request, count: 2)
            try #require(responses.count == 2, "\(responses.map(\.status))")
            #expect(responses.map(\.status) == [200, 400])
            #expect(responses[0].body.contains(#""path":"\/one""#))
            #expect(closed)
            #expect(try await Self.proxiedCounts(fixture).direct >= 1, "/one went the direct path")
        }
    }

    @Test func clientConnectionCloseIsHonoured() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_SKIP_AUTH_ROUTES": "/public"]) { fixture in
            let port = try #require(URL(string: fixture.baseURL)?.port)
            let request = "GET /public/a HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n"
            let (responses, closed) = try await RawHTTPClient.exchange(port: port, request, count: 1)
            #expect(responses.first?.status == 200)
            #expect(responses.first?.header("connection")?.lowercased() == "close")
            #expect(closed)
            // HTTP/1.0 without keep-alive: answered in HTTP/1.0, then closed.
            let old = "GET /public/b HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
            let (oldResponses, oldClosed) = try await RawHTTPClient.exchange(port: port, old, count: 1)
            #expect(oldResponses.first?.head.hasPrefix("HTTP/1.0 200") == true)
            #expect(oldResponses.first?.body.contains(#""path":"\/public\/b""#) == true)
            #expect(oldClosed)
            // HTTP/1.0 with keep-alive and answers of known length: the connection stays.
            let keep = "GET /public/c HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: keep-alive\r\n\r\n"
            let (kept, keptClosed) = try await RawHTTPClient.exchange(port: port, keep + keep, count: 2)
            #expect(kept.map { $0.head.hasPrefix("HTTP/1.0 200") } == [true, true])
            #expect(kept.first?.header("connection")?.lowercased() == "keep-alive")
            #expect(!keptClosed)
            #expect(try await Self.proxiedCounts(fixture).direct == 4)
        }
    }

    /// A client that sends its request and then shuts down its sending side (allowed by
    /// HTTP/1.1, done by some scripts) still gets the whole answer.
    @Test func halfClosedClientGetsItsAnswer() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_SKIP_AUTH_ROUTES": "/public"]) { fixture in
            let port = try #require(URL(string: fixture.baseURL)?.port)
            let request = "GET /public/a HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
            let (responses, _) = try await RawHTTPClient.exchange(port: port, request, count: 1, halfClose: true)
            #expect(responses.first?.status == 200)
            #expect(responses.first?.body.contains(#""path":"\/public\/a""#) == true)
            #expect(try await Self.proxiedCounts(fixture).direct == 1)
        }
    }

    /// HTTP/1.0 has no chunked bodies: an answer without a length to a keep-alive HTTP/1.0
    /// client ends with the connection, on both paths.
    @Test(arguments: [true, false])
    func lengthlessAnswerToHTTP10ClientEndsWithTheConnection(direct: Bool) async throws {
        try await RawUpstream.with { upstream in
            try await GatewayFixture.with(environment: [
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
                "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
            ]) { fixture in
                let port = try #require(URL(string: fixture.baseURL)?.port)
                let request = "GET /chunked HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: keep-alive\r\n\r\n"
                let (responses, closed) = try await RawHTTPClient.exchange(port: port, request, count: 1)
                let response = try #require(responses.first)
                #expect(response.status == 200)
                #expect(response.header("transfer-encoding") == nil, "\(response.head)")
                #expect(response.body == "ok-chunked")
                #expect(closed)
            }
        }
    }

    /// A kept-alive upstream connection that the upstream drops when the next request arrives
    /// is retried once on a new connection (the request has no body, so it can be sent again).
    @Test func droppedKeepAliveConnectionIsRetriedForRequestsWithoutBody() async throws {
        try await RawUpstream.with { upstream in
            try await GatewayFixture.with(environment: [
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
            ]) { fixture in
                let browser = fixture.browser()
                for index in 0..<10 {
                    let reply = try await browser.send("GET", "/n\(index)")
                    #expect(reply.status == 200 && reply.body == "ok", "request \(index): \(reply.status)")
                }
                // Each request after the first met a dropped connection first, or a new one.
                #expect(upstream.accepted >= 10)
                let counts = try await Self.proxiedCounts(fixture)
                #expect(counts.direct == 10 && counts.router == 0, "\(counts)")
            }
        }
    }

    /// A pooled upstream connection left unused for the idle timeout is closed by the gateway;
    /// with the default (60 s) it stays open.
    @Test(arguments: [Duration.seconds(1), .seconds(60)])
    func idleUpstreamConnectionIsClosedAfterTheIdleTimeout(idleTimeout: Duration) async throws {
        try await RawUpstream.with { upstream in
            try await GatewayFixture.with(
                environment: [
                    "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
                ],
                configure: { $0.upstreamIdleTimeout = idleTimeout }
            ) { fixture in
                let started = ContinuousClock.now
                #expect(try await fixture.browser().send("GET", "/one").body == "ok")
                let stillOpen = upstream.closed == 0
                #expect(try await Self.proxiedCounts(fixture).direct == 1)
                #expect(upstream.accepted == 1)
                // Open right after the answer, unless a loaded machine took longer than the timeout.
                if ContinuousClock.now - started < idleTimeout { #expect(stillOpen) }
                let deadline = ContinuousClock.now + .seconds(5)
                while upstream.closed == 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(upstream.closed == (idleTimeout < .seconds(5) ? 1 : 0))
            }
        }
    }

    /// `GATEHOUSE_UPSTREAM_TIMEOUT` bounds the wait for the response head on both paths.
    @Test(arguments: [true, false])
    func silentUpstreamGets504(direct: Bool) async throws {
        try await RawUpstream.with { upstream in
            try await GatewayFixture.with(environment: [
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
                "GATEHOUSE_UPSTREAM_TIMEOUT": "1s", "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
            ]) { fixture in
                let started = ContinuousClock.now
                let reply = try await fixture.browser().send("GET", "/silent")
                #expect(reply.status == 504)
                #expect(reply.body.contains("upstream_timeout"))
                #expect(ContinuousClock.now - started >= .milliseconds(900))
                let counts = try await Self.proxiedCounts(fixture)
                #expect(direct ? counts.direct == 1 : counts.router == 1, "\(counts)")
                // The gateway goes on serving.
                #expect(try await fixture.browser().send("GET", "/fine").body == "ok")
            }
        }
    }

    @Test func upstreamDyingMidResponseClosesTheClientConnection() async throws {
        try await RawUpstream.with { upstream in
            try await GatewayFixture.with(environment: [
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/",
            ]) { fixture in
                let port = try #require(URL(string: fixture.baseURL)?.port)
                let request = "GET /partial HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
                let (responses, closed) = try await RawHTTPClient.exchange(port: port, request, count: 1)
                #expect(responses.isEmpty)  // 7 of 100 bytes: never a complete response
                #expect(closed)
                // The gateway goes on serving.
                #expect(try await fixture.browser().send("GET", "/fine").body == "ok")
            }
        }
    }

    static func proxiedCounts(_ fixture: GatewayFixture) async throws -> (direct: Double, router: Double) {
        let metrics = try await fixture.metrics().body
        return (
            PrometheusText.value(of: #"gatehouse_proxied_requests_total{path="direct"}"#, in: metrics) ?? -1,
            PrometheusText.value(of: #"gatehouse_proxied_requests_total{path="router"}"#, in: metrics) ?? -1
        )
    }

    /// What the upstream saw for one signed-in request, with the fields that name the
    /// gateway's or the upstream's port normalised; and how the request went.
    static func upstreamView(direct: Bool) async throws -> (fields: [String], counts: (direct: Double, router: Double)) {
        var fields: [String] = []
        var counts = (direct: -1.0, router: -1.0)
        try await GatewayFixture.with(environment: ["GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false"]) { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            browser.cookies["theme"] = "dark"
            let reply = try await browser.send(
                "GET", "/app/page?q=1&r=%2F",
                headers: [
                    ("X-Forwarded-User", "mallory"), ("X-Forwarded-For", "6.6.6.6"), ("Accept", "text/html"),
                    ("Connection", "keep-alive, X-Drop-Me"), ("X-Drop-Me", "1"), ("X-Keep-Me", "2"),
                ])
            #expect(reply.status == 200)
            let echo = try reply.echo()
            #expect(echo.path == "/app/page")
            #expect(echo.query == "q=1&r=%2F")
            fields = echo.headers.compactMap { pair -> String? in
                guard let name = pair.first?.lowercased(), let value = pair.last else { return nil }
                switch name {
                case "host", "x-forwarded-host": return name + ": <port>"
                default: return name + ": " + value
                }
            }.sorted()
            counts = try await proxiedCounts(fixture)
        }
        return (fields, counts)
    }

    /// Signs alice in; the gateway's port and a `GET path` request with her session cookie.
    static func signedInGet(_ fixture: GatewayFixture) async throws -> (port: Int, get: @Sendable (String) -> String) {
        let browser = fixture.browser()
        try await browser.logIn()
        let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let port = try #require(URL(string: fixture.baseURL)?.port)
        return (port, { path in "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nCookie: \(cookie)\r\n\r\n" })
    }
}
