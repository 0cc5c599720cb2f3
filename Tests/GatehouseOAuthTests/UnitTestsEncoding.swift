import Foundation
import Testing

@testable import GatehouseOAuth

@Suite("Encodings and PKCE")
struct UnitTestsEncoding {
    @Test func pkceMatchesRFC7636AppendixB() throws {
        let pkce = try PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(pkce.challengeMethod == "S256")
    }

    @Test func pkceVerifiersAreFreshAndWellFormed() throws {
        let verifiers = Set((0..<100).map { _ in PKCE().verifier })
        #expect(verifiers.count == 100)
        for verifier in verifiers { _ = try PKCE(verifier: verifier) }
        #expect(throws: OAuthError.self) { try PKCE(verifier: "short") }
        #expect(throws: OAuthError.self) { try PKCE(verifier: String(repeating: "a", count: 42) + "!") }
    }

    @Test func formEncodingFollowsTheWHATWGRules() {
        #expect(FormEncoding.escape("a b+c/d:e%f~g*h-i.j_k") == "a+b%2Bc%2Fd%3Ae%25f%7Eg*h-i.j_k")
        #expect(FormEncoding.escape("é") == "%C3%A9")
        let decoded = FormEncoding.decode("a=1&b=x+y%2Fz&c=&d")
        #expect(decoded?.map(\.0) == ["a", "b", "c", "d"])
        #expect(decoded?.map(\.1) == ["1", "x y/z", "", ""])
        #expect(FormEncoding.decode("a=%ZZ") == nil)
        #expect(FormEncoding.decode("a=%E9") == nil)  // not UTF-8
        #expect(FormEncoding.decode("a=%4") == nil)
    }

    @Test func base64URLRejectsAnythingButTheURLAlphabet() {
        #expect(Base64URL.decode("aGVsbG8") == Array("hello".utf8))
        #expect(Base64URL.encode(Array("hello".utf8)) == "aGVsbG8")
        #expect(Base64URL.decode("aGVsbG8=") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("aGVsbG9") == nil)  // non-zero trailing bits
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Substring(Base64URL.encode(bytes))) == bytes)
        }
    }

    @Test func loopbackIsTheOnlyPlaceForPlainHTTP() throws {
        _ = try EndpointURL.validate("https://idp.example.com/token", name: "t")
        _ = try EndpointURL.validate("http://127.0.0.1:9000/token", name: "t")
        _ = try EndpointURL.validate("http://localhost/token", name: "t")
        _ = try EndpointURL.validate("http://[::1]:8080/token", name: "t")
        for url in ["http://idp.example.com/token", "http://127.0.0.1.evil.com/", "ftp://127.0.0.1/", "https://user:pw@idp.example.com/", "/relative"] {
            #expect(throws: OAuthError.self, "\(url)") { try EndpointURL.validate(url, name: "t") }
        }
    }

    @Test func callbackParsing() throws {
        let callback = try CallbackParameters(query: "code=abc&state=xyz&iss=https%3A%2F%2Fidp.example.com")
        #expect(callback.code == "abc")
        #expect(callback.state == "xyz")
        #expect(callback.issuer == "https://idp.example.com")
        let error = try CallbackParameters(query: "error=access_denied&error_description=User+said+no&state=s")
        #expect(error.error == OAuthErrorResponse(error: "access_denied", errorDescription: "User said no"))
        for bad in ["code=a&code=b", "state=%G1", "code=" + String(repeating: "x", count: 5000)] {
            #expect(throws: OAuthError.self) { try CallbackParameters(query: Substring(bad)) }
        }
    }

    /// Issue 14: the refresh lead time is the leeway but at most half the token's lifetime, so
    /// a short-lived token is not due the moment it is issued.
    @Test func refreshIsDueHalfWayThroughAShortLifetime() throws {
        let issued = Date(timeIntervalSince1970: 1_700_000_000)
        func due(lifetime: Double, after elapsed: Double, leeway: Int = 60, knownIssue: Bool = true) -> Bool {
            TokenSet(
                accessToken: "a", expiresAt: issued.addingTimeInterval(lifetime), issuedAt: knownIssue ? issued : nil
            ).refreshDue(leeway: .seconds(leeway), now: issued.addingTimeInterval(elapsed))
        }
        #expect(!due(lifetime: 40, after: 0), "a 40-second token is not due when issued")
        #expect(!due(lifetime: 40, after: 19))
        #expect(due(lifetime: 40, after: 21))
        #expect(!due(lifetime: 5, after: 2))
        #expect(due(lifetime: 5, after: 3))
        #expect(!due(lifetime: 3600, after: 3539), "a long token: the leeway decides")
        #expect(due(lifetime: 3600, after: 3541))
        #expect(due(lifetime: 40, after: 0, knownIssue: false), "issue time unknown (older rows): the leeway alone")
        #expect(!TokenSet(accessToken: "a").refreshDue(leeway: .seconds(60), now: issued), "no stated lifetime: never due")
        let response = try TokenResponse.tokenSet(
            from: ["access_token": .string("a"), "token_type": .string("Bearer"), "expires_in": .number(40)], receivedAt: issued)
        #expect(response.issuedAt == issued && response.expiresAt == issued.addingTimeInterval(40))
    }

    @Test func tokenSetExpiryAndRefreshMerge() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let tokens = TokenSet(accessToken: "a", expiresAt: now.addingTimeInterval(20), refreshToken: "r1", idToken: "i1")
        #expect(tokens.expires(within: .seconds(30), now: now))
        #expect(!tokens.expires(within: .seconds(10), now: now))
        let merged = tokens.updated(byRefresh: TokenSet(accessToken: "b"))
        #expect(merged.refreshToken == "r1")
        #expect(merged.idToken == "i1")
        let rotated = tokens.updated(byRefresh: TokenSet(accessToken: "b", refreshToken: "r2"))
        #expect(rotated.refreshToken == "r2")
        #expect(!"\(tokens)".contains("r1"))
    }

    @Test func tokenResponsesInJSONAndFormEncoding() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let json = IdPResponse(
            status: 200, headers: ["Content-Type": "application/json; charset=utf-8"],
            body: Array(#"{"access_token":"at","token_type":"Bearer","expires_in":"3600","scope":"openid email","x_custom":1}"#.utf8))
        let tokens = try TokenResponse.process(json, receivedAt: now)
        #expect(tokens.expiresAt == now.addingTimeInterval(3600))
        #expect(tokens.scope == ["openid", "email"])
        #expect(tokens.raw["x_custom"] == .number(1))
        #expect(tokens.raw["access_token"] == nil, "one copy of each token")
        let form = IdPResponse(
            status: 200, headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Array("access_token=gho_abc&scope=read%3Auser&token_type=bearer".utf8))
        #expect(try TokenResponse.process(form, receivedAt: now).scope == ["read:user"])
        let negative = IdPResponse(
            status: 200, headers: ["Content-Type": "application/json"],
            body: Array(#"{"access_token":"at","token_type":"Bearer","expires_in":-5}"#.utf8))
        #expect(throws: OAuthError.self) { try TokenResponse.process(negative, receivedAt: now) }
    }
}

/// RFC 7638 §3.1's example: the thumbprint `kid` of a `private_key_jwt` key.
@Test func rsaJWKThumbprintMatchesRFC7638() throws {
    let modulus =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    let bytes = try #require(Base64URL.decode(modulus[...]))
    #expect(
        ClientSigningKey.rsaThumbprint(modulus: Data(bytes), exponent: Data([0x01, 0x00, 0x01]))
            == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
}
