import AsyncHTTPClient
import Foundation
import GatehouseTesting
import GatehouseOAuth
import GatehouseTestSupport
import JWTKit
import NIOHTTP1
import Testing

/// DPoP-bound tokens at an independent resource server (RFC 9449 §7): `scripts/dpop-rs/dpop_rs.py`,
/// Python and joserfc, shares no code with Gatehouse. ``OAuthClient/dpopRequest(_:accessToken:key:timeout:)``
/// gets through it; each proof rule of §4.3 and §7.1 has a test whose request is right in every
/// other way, so it would pass if the server skipped that one check.
@Suite("DPoP resource server")
struct DPoPResourceServerTests {
    // MARK: - The library's path

    @Test func getAndPostWithABodyGetThrough() async throws {
        try await Self.withResource { resource in
            let get = try await resource.client.dpopRequest(
                HTTPClientRequest(url: resource.url), accessToken: resource.token, key: resource.key)
            let got = try await Answer(get)
            #expect(got.status == 200, "\(got)")
            #expect(got.json["sub"] as? String == "alice")
            #expect(got.json["jkt"] as? String == resource.key.thumbprint)
            #expect(got.json["method"] as? String == "GET" && got.json["path"] as? String == "/api/resource")

            var request = HTTPClientRequest(url: resource.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "text/plain")
            request.body = .bytes(Array("hello, resource".utf8))
            let posted = try await Answer(
                try await resource.client.dpopRequest(request, accessToken: resource.token, key: resource.key))
            #expect(posted.status == 200, "\(posted)")
            #expect(posted.json["method"] as? String == "POST" && posted.json["body_length"] as? Int == 15)

            // The client learnt the server's nonce from one refusal and tried again; the server
            // never logs the token.
            let log = resource.server.log().split(separator: "\n")
            #expect(log.count == 4, "\(log)")  // the fixture's nonce fetch, use_dpop_nonce, GET, POST
            #expect(log.dropFirst().first?.contains("401 refused use_dpop_nonce") == true, "\(log)")
            #expect(log.suffix(2).allSatisfy { $0.contains(" 200 ok sub=alice") }, "\(log)")
            #expect(!resource.server.log().contains(resource.token))
        }
    }

    /// The first request to a resource being a POST with a body: the server asks for its nonce.
    /// A body passed as `body` is sent again with it; one set on the request (maybe a stream)
    /// is not, and that request gets the `401`, whose nonce then serves the next one.
    @Test func aFirstPostWithABodyIsRetriedWithTheNonce() async throws {
        try await Self.withResource { resource in
            var request = HTTPClientRequest(url: resource.url)
            request.method = .POST
            let answer = try await Answer(
                try await resource.client.dpopRequest(
                    request, body: Array("first".utf8), accessToken: resource.token, key: resource.key))
            #expect(answer.status == 200, "\(answer)")
        }
        try await Self.withResource { resource in
            var request = HTTPClientRequest(url: resource.url)
            request.method = .POST
            request.body = .bytes(Array("first".utf8))
            let refused = try await Answer(
                try await resource.client.dpopRequest(request, accessToken: resource.token, key: resource.key))
            #expect(refused.status == 401, "\(refused)")
            let next = try await Answer(
                try await resource.client.dpopRequest(request, accessToken: resource.token, key: resource.key))
            #expect(next.status == 200, "\(next)")
        }
    }

    // MARK: - One test per rule (RFC 9449 §4.3, §7.1)

    @Test func htmMustBeTheRequestsMethod() async throws {
        try await Self.withResource { resource in
            let proof = try resource.key.proof(
                method: "POST", url: resource.url, accessToken: resource.token, nonce: resource.nonce, now: Date())
            Self.expect(try await resource.send(.GET, proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    enum Elsewhere: CaseIterable { case otherPath, otherPort }

    @Test(arguments: Elsewhere.allCases)
    func htuMustBeTheRequestsURL(_ elsewhere: Elsewhere) async throws {
        try await Self.withResource { resource in
            let url = switch elsewhere {
            case .otherPath: resource.server.baseURL + "/api/other"
            case .otherPort: "http://127.0.0.1:\(resource.server.port + 1)/api/resource"
            }
            let proof = try resource.key.proof(
                method: "GET", url: url, accessToken: resource.token, nonce: resource.nonce, now: Date())
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    /// Five minutes off either way, against the server's 60 s window.
    @Test(arguments: [-300.0, 300.0])
    func iatMustBeRecent(_ offset: TimeInterval) async throws {
        try await Self.withResource { resource in
            let proof = try resource.proof(now: Date().addingTimeInterval(offset))
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    @Test func aProofIsUsedOnce() async throws {
        try await Self.withResource { resource in
            let proof = try resource.proof()
            let first = try await resource.send(proofs: [proof])
            #expect(first.status == 200, "\(first)")
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    /// `ath` of another token, and no `ath` at all.
    @Test(arguments: ["another-access-token", nil] as [String?])
    func athMustBeTheTokensHash(_ hashed: String?) async throws {
        try await Self.withResource { resource in
            let proof = try resource.key.proof(
                method: "GET", url: resource.url, accessToken: hashed, nonce: resource.nonce, now: Date())
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    /// A stolen token with the thief's own key: `cnf.jkt` names another key.
    @Test func theProofKeyMustBeTheTokensKey() async throws {
        try await Self.withResource { resource in
            let proof = try DPoPKey().proof(
                method: "GET", url: resource.url, accessToken: resource.token, nonce: resource.nonce, now: Date())
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    /// No nonce, or one the server never gave: `use_dpop_nonce` with the nonce to use (§9).
    @Test(arguments: [nil, "made-up-nonce"] as [String?])
    func theServersNonceIsRequired(_ nonce: String?) async throws {
        try await Self.withResource { resource in
            let proof = try resource.key.proof(
                method: "GET", url: resource.url, accessToken: resource.token, nonce: nonce, now: Date())
            let answer = try await resource.send(proofs: [proof])
            Self.expect(answer, refusedWith: "use_dpop_nonce")
            #expect(answer.nonce == resource.nonce)
        }
    }

    /// A bound token sent as a bearer token, even with a good proof beside it (§7.1).
    @Test func aBoundTokenIsNotABearerToken() async throws {
        try await Self.withResource { resource in
            let answer = try await resource.send(scheme: "Bearer", proofs: [try resource.proof()])
            Self.expect(answer, refusedWith: "invalid_token")
        }
    }

    /// The claims of a good proof changed after signing (another `jti`): the signature fails.
    @Test func anAlteredProofIsRefused() async throws {
        try await Self.withResource { resource in
            let parts = try resource.proof().split(separator: ".").map(String.init)
            var claims = try #require(JWTParts.decodeJSON(parts[1]))
            claims["jti"] = "altered"
            let altered = [parts[0], try JWTParts.encodeJSON(claims), parts[2]].joined(separator: ".")
            Self.expect(try await resource.send(proofs: [altered]), refusedWith: "invalid_dpop_proof")
        }
    }

    /// The access token's claims changed (and `ath` made for the changed token): its signature fails.
    @Test func anAlteredAccessTokenIsRefused() async throws {
        try await Self.withResource { resource in
            let parts = resource.token.split(separator: ".").map(String.init)
            var claims = try #require(JWTParts.decodeJSON(parts[1]))
            claims["sub"] = "mallory"
            let altered = [parts[0], try JWTParts.encodeJSON(claims), parts[2]].joined(separator: ".")
            let proof = try resource.key.proof(
                method: "GET", url: resource.url, accessToken: altered, nonce: resource.nonce, now: Date())
            Self.expect(try await resource.send(token: altered, proofs: [proof]), refusedWith: "invalid_token")
        }
    }

    @Test func oneProofHeaderOnly() async throws {
        try await Self.withResource { resource in
            let proofs = [try resource.proof(), try resource.proof()]
            Self.expect(try await resource.send(proofs: proofs), refusedWith: "invalid_dpop_proof")
        }
    }

    // MARK: - Header rules, with proofs signed by hand (the bound key, everything else right)

    /// The control for the hand-made proofs below: with the right header, one is accepted.
    @Test func aHandMadeProofWithTheRightHeaderIsAccepted() async throws {
        try await Self.withResource { resource in
            let answer = try await resource.send(proofs: [try await resource.handMadeProof()])
            #expect(answer.status == 200, "\(answer)")
        }
    }

    @Test func typMustBeDPoPJWT() async throws {
        try await Self.withResource { resource in
            let proof = try await resource.handMadeProof { $0.fields["typ"] = "JWT" }
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }

    /// A good proof's header with `alg: none`, and no signature.
    @Test func algMustBeAsymmetric() async throws {
        try await Self.withResource { resource in
            let parts = try resource.proof().split(separator: ".").map(String.init)
            var header = try #require(JWTParts.decodeJSON(parts[0]))
            header["alg"] = "none"
            let unsigned = try JWTParts.encodeJSON(header) + "." + parts[1] + "."
            Self.expect(try await resource.send(proofs: [unsigned]), refusedWith: "invalid_dpop_proof")
        }
    }

    @Test func theJWKMustNotHoldThePrivateKey() async throws {
        try await Self.withResource { resource in
            let d = JWTParts.encode(resource.key.rawRepresentation)
            let proof = try await resource.handMadeProof { header in
                header.fields["jwk"] = .object((header.fields["jwk"]?.asObject ?? [:]).merging(["d": .string(d)]) { $1 })
            }
            Self.expect(try await resource.send(proofs: [proof]), refusedWith: "invalid_dpop_proof")
        }
    }
}

// MARK: - Fixture

extension DPoPResourceServerTests {
    /// A development IdP, alice signed in with a fresh ``DPoPKey`` (a bound token), and the
    /// resource server trusting the IdP; `nonce` is the server's current nonce.
    struct Resource {
        let server: DPoPResourceServer
        let client: OAuthClient
        let key: DPoPKey
        let token: String
        let nonce: String
        var url: String { server.baseURL + "/api/resource" }

        /// A good proof of the bound key for a GET of ``url``, made at `now`.
        func proof(now: Date = Date()) throws -> String {
            try key.proof(method: "GET", url: url, accessToken: token, nonce: nonce, now: now)
        }

        /// A GET (or `method`) of ``url`` with `token` under `scheme` and the `proofs` as `DPoP` headers.
        func send(
            _ method: HTTPMethod = .GET, scheme: String = "DPoP", token: String? = nil, proofs: [String]
        ) async throws -> Answer {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: scheme + " " + (token ?? self.token))
            for proof in proofs { request.headers.add(name: "DPoP", value: proof) }
            return try await Answer(try await DOTBrowser.http.execute(request, timeout: .seconds(10)))
        }

        /// A good proof signed again by hand with the bound key (JWTKit, not ``DPoPKey``), a
        /// new `jti`, its header — the one ``DPoPKey`` writes — changed by `edit`.
        func handMadeProof(_ edit: (inout JWTHeader) -> Void = { _ in }) async throws -> String {
            let parts = try proof().split(separator: ".").map(String.init)
            var header = JWTHeader()
            for (name, value) in try #require(JWTParts.decodeJSON(parts[0])) {
                if let text = value as? String {
                    header.fields[name] = .string(text)
                } else if let object = value as? [String: String] {
                    header.fields[name] = .object(object.mapValues { .string($0) })
                }
            }
            edit(&header)
            let decoded = try #require(JWTParts.decodeJSON(parts[1]))
            var claims = try JSONDecoder().decode(
                ProofClaims.self, from: try JSONSerialization.data(withJSONObject: decoded))
            claims.jti = UUID().uuidString
            let signer = try ES256PrivateKey(key: JWTParts.encode(key.rawRepresentation))
            return try await JWTKeyCollection().add(ecdsa: signer).sign(claims, header: header)
        }
    }

    struct ProofClaims: JWTPayload {
        var jti: String
        var htm: String
        var htu: String
        var iat: Int
        var ath: String
        var nonce: String

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A response: the status, the `error` of its `WWW-Authenticate` challenge, its
    /// `DPoP-Nonce` and its JSON body.
    struct Answer: CustomStringConvertible, @unchecked Sendable {
        var status: Int
        var error: String?
        var nonce: String?
        var json: [String: Any]

        init(_ response: HTTPClientResponse) async throws {
            status = Int(response.status.code)
            nonce = response.headers.first(name: "dpop-nonce")
            let challenge = response.headers.first(name: "www-authenticate") ?? ""
            if challenge.hasPrefix("DPoP "),
                let range = challenge.range(of: #"error="([^"]*)""#, options: .regularExpression)
            {
                error = String(challenge[range].dropFirst(7).dropLast())
            }
            let body = try await response.body.collect(upTo: 1 << 16)
            json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        }

        var description: String { "\(status) error=\(error ?? "-") \(json)" }
    }

    static func withResource(_ body: @escaping @Sendable (Resource) async throws -> Void) async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let key = DPoPKey()
            var parameters = AuthorizationParameters()
            parameters.dpopKeyThumbprint = key.thumbprint
            let request = try await client.authorizationRequest(parameters)
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            let tokens = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending, dpop: key
            ).tokens
            try #require(tokens.tokenType == "DPoP")
            try await DPoPResourceServer.with(issuer: fixture.issuer) { server in
                // Every answer carries the current nonce, a refusal too.
                let hello = try await DOTBrowser.http.execute(
                    HTTPClientRequest(url: server.baseURL + "/api/resource"), timeout: .seconds(10))
                _ = try await hello.body.collect(upTo: 1 << 16)
                let nonce = try #require(hello.headers.first(name: "dpop-nonce"))
                try await body(Resource(server: server, client: client, key: key, token: tokens.accessToken, nonce: nonce))
            }
        }
    }

    /// A refusal: `401`, the `error` in `WWW-Authenticate: DPoP` and the same in the JSON body.
    static func expect(_ answer: Answer, refusedWith error: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == 401, "\(answer)", sourceLocation: sourceLocation)
        #expect(answer.error == error, "\(answer)", sourceLocation: sourceLocation)
        #expect(answer.json["error"] as? String == error, "\(answer)", sourceLocation: sourceLocation)
        #expect(answer.nonce != nil, "every answer carries a DPoP-Nonce", sourceLocation: sourceLocation)
    }
}
