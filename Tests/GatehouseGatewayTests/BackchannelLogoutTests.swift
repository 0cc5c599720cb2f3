import Crypto
import Foundation
import GatehouseOAuth
import Testing

/// `POST /oauth2/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0), with logout
/// tokens minted by a local ``SigningIdP``.
@Suite("Gateway back-channel logout")
struct BackchannelLogoutTests {
    /// Whether `browser`'s session still opens the upstream.
    static func isSignedIn(_ browser: GatewayBrowser) async throws -> Bool {
        let reply = try await browser.send("GET", "/check", headers: [("Accept", "application/json")])
        #expect(reply.status == 200 || reply.status == 401)
        return reply.status == 200
    }

    @Test func bySidEndsExactlyThatSession() async throws {
        try await SigningGatewayFixture.with { fixture in
            let target = try await fixture.signedIn(subject: "u1", sid: "idp-session-1")
            let sameUserOtherSession = try await fixture.signedIn(subject: "u1", sid: "idp-session-2")
            let otherUser = try await fixture.signedIn(subject: "u2", sid: "idp-session-3")
            #expect(try await Self.isSignedIn(target))

            let token = try fixture.idp.token(fixture.idp.logoutClaims(sid: "idp-session-1", sub: "u1"))
            let reply = try await fixture.backchannelLogout(token)
            #expect(reply.status == 200)
            #expect(reply.header("cache-control") == "no-store")
            #expect(try await !Self.isSignedIn(target))
            #expect(try await Self.isSignedIn(sameUserOtherSession))
            #expect(try await Self.isSignedIn(otherUser))
        }
    }

    @Test func bySubAloneEndsEverySessionOfTheSubject() async throws {
        try await SigningGatewayFixture.with { fixture in
            let first = try await fixture.signedIn(subject: "u1", sid: "s1")
            let second = try await fixture.signedIn(subject: "u1", sid: nil)
            let otherUser = try await fixture.signedIn(subject: "u2", sid: "s3")
            let reply = try await fixture.backchannelLogout(try fixture.idp.token(fixture.idp.logoutClaims(sid: nil, sub: "u1")))
            #expect(reply.status == 200)
            #expect(try await !Self.isSignedIn(first))
            #expect(try await !Self.isSignedIn(second))
            #expect(try await Self.isSignedIn(otherUser))
        }
    }

    @Test func aReplayedTokenIsRefused() async throws {
        try await SigningGatewayFixture.with { fixture in
            let token = try fixture.idp.token(fixture.idp.logoutClaims(sid: "s1", sub: "u1", jti: "jti-once"))
            #expect(try await fixture.backchannelLogout(token).status == 200)
            let later = try await fixture.signedIn(subject: "u1", sid: "s1")
            let replay = try await fixture.backchannelLogout(token)
            #expect(replay.status == 400)
            #expect(try Self.errorBody(replay)["error"] == "invalid_request")
            #expect(try await Self.isSignedIn(later))
            // Another token with the same jti is a replay too.
            let sameJTI = try fixture.idp.token(fixture.idp.logoutClaims(sid: "s9", sub: "u9", jti: "jti-once"))
            #expect(try await fixture.backchannelLogout(sameJTI).status == 400)
        }
    }

    /// One spoiled logout token per rule of §2.6.
    enum Spoil: String, CaseIterable, Sendable {
        case nonce, missingEvents, eventNotAnObject, otherEventOnly, missingJTI, neitherSubNorSid
        case wrongAudience, wrongIssuer, expired, otherKeySameKid, unknownKid, idTokenType
    }

    @Test(arguments: Spoil.allCases)
    func aSpoiledTokenIsRefusedAndEndsNothing(_ spoil: Spoil) async throws {
        try await SigningGatewayFixture.with { fixture in
            let session = try await fixture.signedIn(subject: "u1", sid: "s1")
            let idp = fixture.idp
            var claims = idp.logoutClaims(sid: "s1", sub: "u1")
            var typ: String? = "logout+jwt"
            var kid = SigningIdP.keyID
            var signer: P256.Signing.PrivateKey?
            switch spoil {
            case .nonce: claims["nonce"] = .string("n-1")
            case .missingEvents: claims["events"] = nil
            case .eventNotAnObject: claims["events"] = .object([SigningIdP.logoutEvent: .string("yes")])
            case .otherEventOnly: claims["events"] = .object(["http://example.com/other-event": .object([:])])
            case .missingJTI: claims["jti"] = nil
            case .neitherSubNorSid: (claims["sub"], claims["sid"]) = (nil, nil)
            case .wrongAudience: claims["aud"] = .string("someone-else")
            case .wrongIssuer: claims["iss"] = .string("https://evil.example")
            case .expired:
                let past = Date().timeIntervalSince1970 - 3600
                (claims["iat"], claims["exp"]) = (.number(past - 120), .number(past))
            case .otherKeySameKid: signer = P256.Signing.PrivateKey()
            case .unknownKid: kid = "not-published"
            case .idTokenType: typ = "at+jwt"
            }
            let token = try idp.token(claims, typ: typ, kid: kid, signer: signer)
            let reply = try await fixture.backchannelLogout(token)
            #expect(reply.status == 400, "\(spoil)")
            #expect(reply.header("cache-control") == "no-store")
            let body = try Self.errorBody(reply)
            #expect(body["error"] == "invalid_request")
            #expect(body["error_description"]?.isEmpty == false)
            #expect(!reply.body.contains(token))
            #expect(try await Self.isSignedIn(session), "\(spoil) must end nothing")
        }
    }

    @Test func plainJWTTypeIsAccepted() async throws {
        try await SigningGatewayFixture.with { fixture in
            let session = try await fixture.signedIn(subject: "u1", sid: "s1")
            let token = try fixture.idp.token(fixture.idp.logoutClaims(sid: "s1", sub: nil), typ: "JWT")
            #expect(try await fixture.backchannelLogout(token).status == 200)
            #expect(try await !Self.isSignedIn(session))
        }
    }

    @Test func otherMethodsAndMalformedRequestsAreRefused() async throws {
        try await SigningGatewayFixture.with { fixture in
            let session = try await fixture.signedIn(subject: "u1", sid: "s1")
            let token = try fixture.idp.token(fixture.idp.logoutClaims(sid: "s1", sub: "u1"))
            let get = try await fixture.browser().send("GET", "/oauth2/backchannel-logout?logout_token=" + token)
            #expect(get.status == 405)
            #expect(get.header("allow") == "POST")
            let json = try await fixture.browser().send(
                "POST", "/oauth2/backchannel-logout", headers: [("Content-Type", "application/json")],
                body: "{\"logout_token\":\"\(token)\"}")
            #expect(json.status == 400)
            let missing = try await fixture.browser().send(
                "POST", "/oauth2/backchannel-logout", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: "token=" + token)
            #expect(missing.status == 400)
            let twice = try await fixture.backchannelLogout(token + "&logout_token=" + token)
            #expect(twice.status == 400)
            let huge = try await fixture.backchannelLogout(String(repeating: "a", count: 64 * 1024))
            #expect(huge.status == 400)
            #expect(try await Self.isSignedIn(session))
            // The same token, sent properly, still works: nothing above consumed its jti.
            #expect(try await fixture.backchannelLogout(token).status == 200)
            #expect(try await !Self.isSignedIn(session))
        }
    }

    static func errorBody(_ reply: GatewayBrowser.Reply) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(reply.body.utf8))
    }
}
