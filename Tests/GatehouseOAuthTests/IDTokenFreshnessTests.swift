import Foundation
import GatehouseOAuth
import Testing

/// OIDC Core §3.1.3.7 step 10: an ID token issued too long ago (`iat`) is refused at login even
/// when its `exp` is still ahead (Configuration.idTokenMaxAge, default 10 minutes, as
/// mod_auth_openidc's OIDCIDTokenIatSlack). A refresh may return an old ID token: not refused.
@Suite struct IDTokenFreshnessTests {
    typealias Keys = TestKeys

    /// Claims issued `age` seconds before HostileIdP.now, expiring an hour after it.
    static func claims(issuer: String, age: TimeInterval) -> [String: JSONValue] {
        var claims = Keys.claims(issuer: issuer, now: HostileIdP.now.addingTimeInterval(-age))
        claims["exp"] = .number(HostileIdP.now.timeIntervalSince1970 + 3600)
        return claims
    }

    @Test func aDayOldIDTokenIsRefusedAtLogin() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Self.claims(issuer: idp.issuer, age: 86400))
            let error = await expectRejection(.idTokenIssuedTooLongAgo) { try await idp.login(idToken: token) }
            #expect(error?.code.rawValue == "id_token_iat_too_old")
        }
    }

    @Test func theDefaultIsTenMinutes() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            _ = try await idp.login(idToken: try Keys.rsaA.token(Self.claims(issuer: idp.issuer, age: 599)))
            let old = try Keys.rsaA.token(Self.claims(issuer: idp.issuer, age: 601))
            await expectRejection(.idTokenIssuedTooLongAgo) { try await idp.login(idToken: old) }
        }
    }

    @Test func theMaxAgeIsConfigurableAndCanBeTurnedOff() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let twoMinutes = try Keys.rsaA.token(Self.claims(issuer: idp.issuer, age: 120))
            await expectRejection(.idTokenIssuedTooLongAgo) {
                try await idp.login(idToken: twoMinutes) { $0.idTokenMaxAge = .seconds(60) }
            }
            let dayOld = try Keys.rsaA.token(Self.claims(issuer: idp.issuer, age: 86400))
            _ = try await idp.login(idToken: dayOld) { $0.idTokenMaxAge = nil }
        }
    }

    /// Some IdPs answer a refresh with the login's ID token again: the refresh still works.
    @Test func aRefreshReturningAnOldIDTokenIsAccepted() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let client = try idp.client()
            var claims = Self.claims(issuer: idp.issuer, age: 86400)
            claims["nonce"] = nil
            idp.setToken(.tokens(accessToken: "at-refreshed", idToken: try Keys.rsaA.token(claims)))
            let refreshed = try await client.refresh(TokenSet(accessToken: "at-old", refreshToken: "rt-1"), subject: "user-42")
            #expect(refreshed.accessToken == "at-refreshed")
        }
    }

    /// The pure verifier applies IDTokenExpectations.maxIssuedAtAge (default 10 minutes), and
    /// logout tokens, which share the time checks, are not held to it.
    @Test func thePureVerifierChecksIssuedAt() async throws {
        let keys = try await IDTokenNegativeTests.keySet([Keys.rsaA.publicJWK()])
        let issuer = IDTokenNegativeTests.issuer
        let stale = try Keys.rsaA.token(Self.claims(issuer: issuer, age: 3600))
        await expectRejection(.idTokenIssuedTooLongAgo) {
            try IDTokenVerifier.verify(stale, keys: keys, expecting: IDTokenNegativeTests.expectations(), now: HostileIdP.now)
        }
        var lenient = IDTokenNegativeTests.expectations()
        lenient.maxIssuedAtAge = .seconds(7200)
        _ = try IDTokenVerifier.verify(stale, keys: keys, expecting: lenient, now: HostileIdP.now)

        var logout = Self.claims(issuer: issuer, age: 3600)
        logout["nonce"] = nil
        logout["jti"] = .string("jti-1")
        logout["events"] = .object([LogoutTokenVerifier.backchannelLogoutEvent: .object([:])])
        let logoutToken = try Keys.rsaA.token(logout)
        _ = try LogoutTokenVerifier.verify(
            logoutToken, keys: keys, expecting: IDTokenNegativeTests.expectations(), now: HostileIdP.now)
    }
}
