import Foundation
import GatehouseOAuth
import Testing

/// Refresh token rotation, reuse detection (RFC 9700 §4.14.2) and revocation (RFC 7009).
@Suite("Dev IdP refresh and revocation")
struct RefreshAndRevocationTests {
    @Test func refreshRotatesTheRefreshTokenAndReturnsAValidIDToken() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            let refreshed = try await client.refresh(login.tokens, subject: "alice")
            #expect(refreshed.refreshToken != login.tokens.refreshToken)
            #expect(refreshed.accessToken != login.tokens.accessToken)
            #expect(refreshed.idToken != nil)
            let again = try await client.refresh(refreshed, subject: "alice")
            #expect(again.refreshToken != refreshed.refreshToken)
        }
    }

    @Test func reusingARotatedRefreshTokenRevokesTheFamily() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            let refreshed = try await client.refresh(login.tokens)
            await #expect {
                try await client.refresh(login.tokens)
            } throws: { ($0 as? OAuthError)?.code == .invalidGrant }
            // The legitimate holder's newer tokens are gone too.
            await #expect {
                try await client.refresh(refreshed)
            } throws: { ($0 as? OAuthError)?.code == .invalidGrant }
            await #expect(throws: OAuthError.self) {
                try await client.userInfo(accessToken: refreshed.accessToken, subject: nil)
            }
        }
    }

    @Test func anotherClientCannotUseTheRefreshToken() async throws {
        try await IdPFixture.with { fixture in
            let login = try await fixture.logIn(try fixture.client())
            let other = try fixture.client("es-client")
            await #expect {
                try await other.refresh(login.tokens)
            } throws: { ($0 as? OAuthError)?.code == .invalidGrant }
        }
    }

    @Test func revokingTheRefreshTokenEndsTheGrant() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            try await client.revoke(try #require(login.tokens.refreshToken), hint: .refreshToken)
            await #expect {
                try await client.refresh(login.tokens)
            } throws: { ($0 as? OAuthError)?.code == .invalidGrant }
            await #expect(throws: OAuthError.self) {
                try await client.userInfo(accessToken: login.tokens.accessToken, subject: nil)
            }
        }
    }

    @Test func revokingTheAccessTokenLeavesTheRefreshToken() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            try await client.revoke(login.tokens.accessToken, hint: .accessToken)
            await #expect(throws: OAuthError.self) {
                try await client.userInfo(accessToken: login.tokens.accessToken, subject: nil)
            }
            let refreshed = try await client.refresh(login.tokens)
            _ = try await client.userInfo(accessToken: refreshed.accessToken, subject: "alice")
        }
    }

    @Test func revocationByAnotherClientIsIgnoredAndUnknownTokensAreFine() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            try await fixture.client("es-client").revoke(try #require(login.tokens.refreshToken))
            try await client.revoke("never-issued")
            _ = try await client.refresh(login.tokens)
        }
    }

    @Test func anExpiredAccessTokenIsRefusedAtUserinfo() async throws {
        let clock = ManualClock()
        try await IdPFixture.with(clock: clock, configure: { $0.accessTokenLifetime = .seconds(30) }) { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            #expect(login.tokens.expiresAt.map { $0.timeIntervalSinceNow < 31 } == true)
            clock.advance(by: 31)
            await #expect(throws: OAuthError.self) {
                try await client.userInfo(accessToken: login.tokens.accessToken, subject: nil)
            }
        }
    }
}
