import AsyncHTTPClient
import Foundation
import GatehouseOAuth
import GatehouseTestSupport
import NIOHTTP1
import Testing

/// `GATEHOUSE_DPOP=true` in front of the independent RFC 9449 resource server
/// (`scripts/dpop-rs/dpop_rs.py`, Python and joserfc, no code shared with Gatehouse): the
/// gateway relays the session's bound token with a fresh proof per request, and what it sent
/// is worth nothing to anyone else — replayed, altered, or re-proved with another key, the
/// resource server refuses it. The server runs with `--echo-credentials` (test-only), so that
/// a 200 says which `Authorization` and `DPoP` it accepted.
@Suite("Gateway DPoP at an independent resource server")
struct GatewayDPoPResourceServerTests {
    /// Through both proxy paths: the relayed token is alice's and bound to the session's key
    /// (`jkt` is its `cnf.jkt`); each request carries a new proof (the server's `jti` cache
    /// would refuse a reused one) whose `htu` is the upstream URL without the query; a POST
    /// with a body needs no second nonce round (the gateway learnt it); a client's own `DPoP`
    /// header never reaches the server in place of the gateway's; the server's log holds no
    /// token and no proof.
    @Test(arguments: [true, false])
    func theGatewayRelaysABoundTokenTheServerAccepts(direct: Bool) async throws {
        try await Self.withResourceServer(direct: direct) { browser, server in
            try await GatewayDPoPTests.logIn(browser)
            let url = server.baseURL + "/api/resource"
            var proofs: [String] = []
            var tokens: Set<String> = []
            for target in ["/api/resource", "/api/resource?page=2", "/api/resource"] {
                let reply = try await browser.send("GET", target, headers: [("Accept", "application/json")])
                #expect(reply.status == 200, "\(target): \(reply.status) \(reply.body)")
                let json = try Self.json(reply.body)
                #expect(json["sub"] as? String == "alice", "\(json)")
                #expect(json["path"] as? String == "/api/resource" && json["method"] as? String == "GET", "\(json)")
                let authorization = try #require(json["authorization"] as? String)
                #expect(authorization.hasPrefix("DPoP "), "\(authorization.prefix(10))")
                let token = String(authorization.dropFirst(5))
                let cnf = try #require(JWTParts.claims(token)?["cnf"] as? [String: Any])
                #expect(json["jkt"] as? String == cnf["jkt"] as? String, "\(json["jkt"] ?? "-") \(cnf)")
                let proof = try #require(json["dpop"] as? String)
                let claims = try #require(JWTParts.claims(proof))
                #expect(claims["htm"] as? String == "GET" && claims["htu"] as? String == url, "\(claims)")
                #expect(claims["ath"] is String && claims["nonce"] is String, "\(claims)")
                proofs.append(proof)
                tokens.insert(token)
            }
            #expect(Set(proofs).count == 3, "a new proof per request")
            #expect(Set(proofs.compactMap { JWTParts.claims($0)?["jti"] as? String }).count == 3)
            #expect(tokens.count == 1, "the session's one token")

            let posted = try await browser.send(
                "POST", "/api/resource",
                headers: [("Accept", "application/json"), ("Content-Type", "text/plain"), ("Origin", browser.baseURL)],
                body: "hello, resource")
            #expect(posted.status == 200, "\(posted.status) \(posted.body)")
            let post = try Self.json(posted.body)
            #expect(post["method"] as? String == "POST" && post["body_length"] as? Int == 15, "\(post)")
            #expect(JWTParts.claims(post["dpop"] as? String ?? "")?["htm"] as? String == "POST", "\(post)")

            // The client's own proof is dropped; the gateway's reaches the server.
            let forged = try await browser.send(
                "GET", "/api/resource", headers: [("Accept", "application/json"), ("DPoP", "forged")])
            #expect(forged.status == 200, "\(forged.status) \(forged.body)")
            let relayed = try #require(try Self.json(forged.body)["dpop"] as? String)
            #expect(relayed != "forged" && relayed.split(separator: ".").count == 3, "\(relayed)")
            #expect(!proofs.contains(relayed))

            // One use_dpop_nonce refusal, of the very first GET (retried); none for the POST.
            let log = server.log().split(separator: "\n").map(String.init)
            #expect(log.filter { $0.contains("refused use_dpop_nonce") }.count == 1, "\(log)")
            #expect(log.first?.contains("GET /api/resource 401 refused use_dpop_nonce") == true, "\(log)")
            #expect(log.contains("dpop-rs: POST /api/resource 200 ok sub=alice"), "\(log)")
            #expect(log.filter { $0.hasSuffix(" 200 ok sub=alice") }.count == 5, "\(log)")
            let text = server.log()
            #expect(!tokens.contains { text.contains($0) } && !proofs.contains { text.contains($0) } && !text.contains(relayed))
        }
    }

    /// What the gateway sent, taken from the server's echo and sent again by someone else,
    /// straight to the server: the same request (the `jti` was used), the proof's claims
    /// changed without signing again (each change with a new `jti` and made to fit its
    /// request, so only the signature fails), the token with a proof of a fresh key
    /// (`cnf.jkt` names the session's), and the token as a bearer token — all `401`.
    @Test func whatTheGatewaySentIsRefusedReplayedOrAltered() async throws {
        try await Self.withResourceServer(direct: true) { browser, server in
            try await GatewayDPoPTests.logIn(browser)
            let reply = try await browser.send("GET", "/api/resource", headers: [("Accept", "application/json")])
            #expect(reply.status == 200, "\(reply.status) \(reply.body)")
            let json = try Self.json(reply.body)
            let authorization = try #require(json["authorization"] as? String)
            let proof = try #require(json["dpop"] as? String)
            let token = String(authorization.dropFirst("DPoP ".count))
            let url = server.baseURL + "/api/resource"

            // Replayed: the same method, URL, token and proof.
            let replayed = try await Self.send(.GET, url, authorization: authorization, proofs: [proof])
            Self.expect(replayed, refusedWith: "invalid_dpop_proof", because: "jti")
            let nonce = try #require(replayed.nonce)

            // Altered: htm POST (sent as a POST), htu another path (sent there); not signed again.
            let parts = proof.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            try #require(parts.count == 3)
            for (method, target, change) in [
                (HTTPMethod.POST, url, ("htm", "POST")), (.GET, server.baseURL + "/api/other", ("htu", server.baseURL + "/api/other")),
            ] {
                var claims = try #require(JWTParts.decodeJSON(parts[1]))
                claims[change.0] = change.1
                claims["jti"] = UUID().uuidString
                claims["nonce"] = nonce
                let altered = [parts[0], try JWTParts.encodeJSON(claims), parts[2]].joined(separator: ".")
                let answer = try await Self.send(method, target, authorization: authorization, proofs: [altered])
                Self.expect(answer, refusedWith: "invalid_dpop_proof", because: "signature")
            }

            // A thief's own key: a good proof in every way but the key.
            let stolen = try DPoPKey().proof(method: "GET", url: url, accessToken: token, nonce: nonce, now: Date())
            let thief = try await Self.send(.GET, url, authorization: authorization, proofs: [stolen])
            Self.expect(thief, refusedWith: "invalid_dpop_proof", because: "cnf.jkt")

            // A bound token is not a bearer token.
            let bearer = try await Self.send(.GET, url, authorization: "Bearer " + token, proofs: [])
            Self.expect(bearer, refusedWith: "invalid_token", because: "DPoP scheme")

            // And the gateway's next request still gets through.
            let again = try await browser.send("GET", "/api/resource", headers: [("Accept", "application/json")])
            #expect(again.status == 200, "\(again.status) \(again.body)")
        }
    }
}

// MARK: - Fixture

extension GatewayDPoPResourceServerTests {
    /// The server the upstream closure started, for the body (which runs while it does).
    final class Started: @unchecked Sendable {
        var server: DPoPResourceServer?
    }

    /// A gateway with DPoP on (``GatewayDPoPTests/withGateway(direct:accessTokenLifetime:fapi2:upstream:_:)``)
    /// whose upstream is the independent resource server, trusting the development IdP's tokens.
    static func withResourceServer(
        direct: Bool, _ body: (GatewayBrowser, DPoPResourceServer) async throws -> Void
    ) async throws {
        let started = Started()
        try await GatewayDPoPTests.withGateway(direct: direct, upstream: { issuer, serve in
            try await DPoPResourceServer.with(issuer: issuer, arguments: ["--echo-credentials"]) { server in
                started.server = server
                try await serve(server.baseURL)
            }
        }) { browser, _ in
            try await body(browser, try #require(started.server))
        }
    }

    /// A response of the resource server: its status, the `error` of `WWW-Authenticate: DPoP`,
    /// its `DPoP-Nonce` and its JSON body.
    struct Answer: CustomStringConvertible, @unchecked Sendable {
        var status: Int
        var error: String?
        var nonce: String?
        var json: [String: Any]
        var description: String { "\(status) error=\(error ?? "-") \(json)" }
    }

    /// A request straight to the resource server, not through the gateway.
    static func send(_ method: HTTPMethod, _ url: String, authorization: String, proofs: [String]) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        for proof in proofs { request.headers.add(name: "DPoP", value: proof) }
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(10))
        let challenge = response.headers.first(name: "www-authenticate") ?? ""
        var error: String?
        if challenge.hasPrefix("DPoP "), let range = challenge.range(of: #"error="([^"]*)""#, options: .regularExpression) {
            error = String(challenge[range].dropFirst(7).dropLast())
        }
        let body = try await response.body.collect(upTo: 1 << 16)
        return Answer(
            status: Int(response.status.code), error: error, nonce: response.headers.first(name: "dpop-nonce"),
            json: (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:])
    }

    /// A `401` with `error` in the challenge and the body, for the reason `description` names.
    static func expect(
        _ answer: Answer, refusedWith error: String, because description: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(answer.status == 401, "\(answer)", sourceLocation: sourceLocation)
        #expect(answer.error == error, "\(answer)", sourceLocation: sourceLocation)
        #expect(answer.json["error"] as? String == error, "\(answer)", sourceLocation: sourceLocation)
        #expect(
            (answer.json["error_description"] as? String)?.contains(description) == true, "\(answer)",
            sourceLocation: sourceLocation)
        #expect(answer.json["authorization"] == nil && answer.json["dpop"] == nil, sourceLocation: sourceLocation)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}
