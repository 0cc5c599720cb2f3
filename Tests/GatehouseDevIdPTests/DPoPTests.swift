import AsyncHTTPClient
import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import GatehouseTestSupport
import Testing

/// DPoP at the token endpoint (RFC 9449): ``OAuthClient`` proves possession of a ``DPoPKey``
/// (retrying once with the server's nonce), and the development IdP binds the tokens to it
/// (`cnf.jkt`, `token_type: DPoP`) and refuses what a strict server refuses — one test per rule.
@Suite("DPoP")
struct DPoPTests {
    @Test func tokensAreBoundToTheKeyAndRefreshNeedsIt() async throws {
        // The caller's own key, named by its thumbprint; see `aLoginOfAClientWithDPoPOnHasItsOwnKey` for the configured way.
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let key = DPoPKey()
            var parameters = AuthorizationParameters()
            parameters.dpopKeyThumbprint = key.thumbprint
            let request = try await client.authorizationRequest(parameters)
            #expect(TestBrowser.query(request.url)["dpop_jkt"] == key.thumbprint)
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            let result = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending, dpop: key)
            #expect(result.tokens.tokenType == "DPoP")
            let cnf = JWTParts.claims(result.tokens.accessToken)?["cnf"] as? [String: String]
            #expect(cnf?["jkt"] == key.thumbprint)

            #expect(result.tokens.dpopKey == key)

            // Another key, or none, cannot refresh (and the refresh token survives the attempt).
            await #expect(throws: OAuthError.self) { _ = try await client.refresh(result.tokens, dpop: DPoPKey()) }
            var unbound = result.tokens
            unbound.dpopKey = nil
            await #expect(throws: OAuthError.self) { _ = try await client.refresh(unbound) }
            // By default a refresh proves the token set's own key, and keeps it.
            let refreshed = try await client.refresh(result.tokens)
            #expect(refreshed.tokenType == "DPoP" && refreshed.accessToken != result.tokens.accessToken)
            #expect(refreshed.dpopKey == key)
        }
    }

    /// A bound token at a resource (the IdP's userinfo): `dpopRequest` sends `Authorization:
    /// DPoP` with a proof carrying `ath`, learns the resource's nonce on the first `401` and
    /// tries once more; the same token as a bearer, or with another key's proof, is refused.
    @Test func aBoundTokenCallsAResourceWithAProof() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let key = DPoPKey()
            let request = try await client.authorizationRequest()
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            let tokens = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending, dpop: key
            ).tokens
            let userinfo = fixture.issuer + "/userinfo"
            let response = try await client.dpopRequest(
                HTTPClientRequest(url: userinfo), accessToken: tokens.accessToken, key: key)
            #expect(response.status == .ok)
            let body = try await response.body.collect(upTo: 1 << 16)
            #expect(String(buffer: body).contains("\"sub\":\"alice\""))

            var bearer = HTTPClientRequest(url: userinfo)
            bearer.headers.add(name: "Authorization", value: "Bearer " + tokens.accessToken)
            let downgraded = try await DOTBrowser.http.execute(bearer, timeout: .seconds(10))
            #expect(downgraded.status == .unauthorized)
            let stolen = try await client.dpopRequest(HTTPClientRequest(url: userinfo), accessToken: tokens.accessToken, key: DPoPKey())
            #expect(stolen.status == .unauthorized)
            #expect(stolen.headers.first(name: "www-authenticate")?.contains("invalid_dpop_proof") == true)
        }
    }

    @Test func aCodeBoundWithDPoPJKTNeedsThatKey() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            var parameters = AuthorizationParameters()
            parameters.dpopKeyThumbprint = DPoPKey().thumbprint
            let request = try await client.authorizationRequest(parameters)
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            await #expect(throws: OAuthError.self) {
                _ = try await client.exchange(
                    CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending, dpop: DPoPKey())
            }
        }
    }

    /// Raw token requests with hand-made proofs: each rule refused with `invalid_dpop_proof`
    /// (or `use_dpop_nonce` without the nonce), and a good proof accepted.
    @Test func everyProofRuleIsEnforced() async throws {
        try await IdPFixture.with { fixture in
            let endpoint = fixture.issuer + "/token"
            let key = DPoPKey()
            func post(_ proofs: [String]) async throws -> (status: Int, error: String?, nonce: String?) {
                var request = HTTPClientRequest(url: endpoint)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.headers.add(name: "Authorization", value: "Basic " + Data("rs-client:rs-secret".utf8).base64EncodedString())
                for proof in proofs { request.headers.add(name: "DPoP", value: proof) }
                request.body = .bytes(Array("grant_type=refresh_token&refresh_token=unknown".utf8))
                let response = try await DOTBrowser.http.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 16)
                let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                return (Int(response.status.code), json?["error"] as? String, response.headers.first(name: "dpop-nonce"))
            }
            let now = Date()
            // No nonce yet: the server asks for one.
            let first = try await post([try key.proof(method: "POST", url: endpoint, now: now)])
            #expect(first.status == 400 && first.error == "use_dpop_nonce")
            let nonce = try #require(first.nonce)
            let cases: [(String, [String])] = [
                ("wrong method", [try key.proof(method: "GET", url: endpoint, nonce: nonce, now: now)]),
                ("wrong url", [try key.proof(method: "POST", url: fixture.issuer + "/other", nonce: nonce, now: now)]),
                ("old iat", [try key.proof(method: "POST", url: endpoint, nonce: nonce, now: now.addingTimeInterval(-300))]),
                ("future iat", [try key.proof(method: "POST", url: endpoint, nonce: nonce, now: now.addingTimeInterval(300))]),
                ("two headers", [
                    try key.proof(method: "POST", url: endpoint, nonce: nonce, now: now),
                    try key.proof(method: "POST", url: endpoint, nonce: nonce, now: now),
                ]),
                ("not a JWS", ["not.a.proof"]),
            ]
            for (name, proofs) in cases {
                let answer = try await post(proofs)
                #expect(answer.status == 400 && answer.error == "invalid_dpop_proof", "\(name): \(answer)")
            }
            // A tampered signature.
            let good = try key.proof(method: "POST", url: endpoint, nonce: nonce, now: now)
            let tampered = String(good.dropLast(2)) + (good.hasSuffix("AA") ? "BB" : "AA")
            #expect(try await post([tampered]).error == "invalid_dpop_proof")
            // A valid proof passes the DPoP checks (the refresh token itself is unknown), once.
            #expect(try await post([good]).error == "invalid_grant")
            #expect(try await post([good]).error == "invalid_dpop_proof", "a replayed jti")
            #expect(try await post([try key.proof(method: "POST", url: endpoint, nonce: "stale", now: now)]).error == "use_dpop_nonce")
        }
    }

    /// With ``OAuthClient/Configuration/usesDPoP`` each login has its own key: named in the
    /// request (`dpop_jkt`), kept with the pending login and then with the tokens (sealed with
    /// them in a store: ``TokenSetFormat``), and used by a refresh and by userinfo.
    @Test func aLoginOfAClientWithDPoPOnHasItsOwnKey() async throws {
        try await IdPFixture.with { fixture in
            let base = try fixture.client()
            var configuration = base.configuration
            configuration.usesDPoP = true
            configuration.fetchUserInfo = true
            let client = try OAuthClient(provider: base.provider, configuration: configuration)
            let first = try await client.authorizationRequest()
            let second = try await client.authorizationRequest()
            let key = try #require(first.pending.dpopKey)
            #expect(second.pending.dpopKey != key)
            #expect(TestBrowser.query(first.url)["dpop_jkt"] == key.thumbprint)
            let callback = try await TestBrowser().signIn(at: first.url, username: "alice", password: "alice")
            // userinfo (fetchUserInfo) is called with a proof too, or the login would fail.
            let result = try await client.exchange(CallbackParameters(query: Substring(callback.query ?? "")), pending: first.pending)
            #expect(result.tokens.dpopKey == key && result.tokens.tokenType == "DPoP")
            #expect(result.identity.subject == "alice")
            #expect(!"\(result.tokens)".contains(key.rawRepresentation.base64EncodedString()))
            let refreshed = try await client.refresh(result.tokens)
            #expect(refreshed.dpopKey == key)
        }
    }
}
