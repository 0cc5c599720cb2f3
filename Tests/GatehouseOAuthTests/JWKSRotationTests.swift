import Foundation
import GatehouseOAuth
import Synchronization
import Testing

/// The JWKS after a key change: an ID token from the token endpoint (an authenticated channel)
/// always refetches the keys when it names a `kid` they lack, one fetch shared by concurrent
/// logins; tokens anyone can send (back-channel logout tokens, bearer tokens) share one small
/// budget, so random kids can neither hammer the IdP nor hold up or fail a login; and no fetch
/// ever delays a token whose key is already held.
@Suite struct JWKSRotationTests {
    typealias Keys = TestKeys

    /// Completes a login through `client` whose token endpoint answers with `idToken`.
    static func login(_ idp: HostileIdP, _ client: OAuthClient, idToken: String) async throws -> LoginResult {
        idp.setToken(.tokens(idToken: idToken))
        return try await client.exchange(idp.callback, pending: HostileIdP.pending)
    }

    /// A back-channel logout token (Back-Channel Logout §2.4) signed by `key` under `kid`.
    static func logoutToken(_ idp: HostileIdP, key: TestKey, kid: String) throws -> String {
        var claims = Keys.claims(issuer: idp.issuer, nonce: nil)
        claims["jti"] = .string(UUID().uuidString)
        claims["sid"] = .string("idp-session-1")
        claims["events"] = .object(["http://schemas.openid.net/event/backchannel-logout": .object([:])])
        return try key.token(claims, kid: kid, extraHeader: ["typ": .string("logout+jwt")])
    }

    /// A JWT access token (RFC 9068) for our client id signed by `key` under `kid`.
    static func accessToken(_ idp: HostileIdP, key: TestKey, kid: String) throws -> String {
        var claims = Keys.claims(issuer: idp.issuer, nonce: nil)
        claims["client_id"] = .string(HostileIdP.clientID)
        claims["jti"] = .string(UUID().uuidString)
        return try key.token(claims, kid: kid, extraHeader: ["typ": .string("at+jwt")])
    }

    /// The scenario: forged logout and bearer tokens with random kids spend the
    /// untrusted budget (one refetch, then none), and the IdP publishing a new key right after
    /// does not lock logins out. Before, the one refetch per 30 seconds was shared with
    /// logins: the login with key B failed with id_token_key_not_found.
    @Test func forgedKidsSpendTheUntrustedBudgetButALoginWithANewKeySucceeds() async throws {
        try await HostileIdP.with { idp in
            let clock = HostileIdP.ManualClock()
            let client = try idp.client(clock: clock.wallClock) { $0.keysMinimumRefetchInterval = .seconds(30) }
            let claims = Keys.claims(issuer: idp.issuer)
            idp.publish(Keys.rsaA)
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims))
            #expect(idp.jwksHits == 1)

            // The first forged kid refetches (the budget); the next ones, logout or bearer, do not.
            for attempt in 0..<5 {
                let forged = try Self.logoutToken(idp, key: Keys.attacker, kid: "forged-\(UUID())")
                await expectRejection(.idTokenKeyNotFound) { try await client.validateLogoutToken(forged) }
                #expect(idp.jwksHits == 2, "attempt \(attempt)")
            }
            let forgedBearer = try Self.accessToken(idp, key: Keys.attacker, kid: "forged-\(UUID())")
            await expectRejection(.idTokenKeyNotFound) {
                try await client.validateAccessToken(forgedBearer, audiences: [HostileIdP.clientID])
            }
            #expect(idp.jwksHits == 2)

            // The IdP publishes key B a second later: a login with it refetches and succeeds.
            clock.advance(by: 1)
            idp.publish(Keys.rsaA, Keys.rsaB)
            let result = try await Self.login(idp, client, idToken: try Keys.rsaB.token(claims))
            #expect(result.idToken?.keyID == Keys.rsaB.kid)
            #expect(idp.jwksHits == 3)

            // Logout and bearer tokens under B now verify with the keys the login brought.
            _ = try await client.validateLogoutToken(try Self.logoutToken(idp, key: Keys.rsaB, kid: Keys.rsaB.kid))
            _ = try await client.validateAccessToken(
                try Self.accessToken(idp, key: Keys.rsaB, kid: Keys.rsaB.kid), audiences: [HostileIdP.clientID])
            #expect(idp.jwksHits == 3)
        }
    }

    /// Two rotations within seconds (a rotation rolled back, or a cluster whose nodes serve
    /// different key sets during a rollout): each login under a new kid refetches.
    @Test func twoQuickRotationsBothSucceed() async throws {
        try await HostileIdP.with { idp in
            let clock = HostileIdP.ManualClock()
            let client = try idp.client(clock: clock.wallClock) { $0.keysMinimumRefetchInterval = .seconds(30) }
            let claims = Keys.claims(issuer: idp.issuer)
            idp.publish(Keys.rsaA)
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims))

            idp.publish(Keys.rsaA, Keys.rsaB)
            #expect(try await Self.login(idp, client, idToken: try Keys.rsaB.token(claims)).idToken?.keyID == Keys.rsaB.kid)
            clock.advance(by: 2)
            idp.publish(Keys.rsaB, Keys.ec)
            #expect(try await Self.login(idp, client, idToken: try Keys.ec.token(claims)).idToken?.keyID == Keys.ec.kid)
            #expect(idp.jwksHits == 3)

            // Back to A (the rollout rolled back): A's kid is unknown again, and it refetches again.
            idp.publish(Keys.rsaA)
            #expect(try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims)).idToken?.keyID == Keys.rsaA.kid)
            #expect(idp.jwksHits == 4)
        }
    }

    /// A kid the IdP really does not publish: every such login asks again (the token endpoint
    /// is the IdP speaking), one fetch each, and fails.
    @Test func aLoginUnderAnUnpublishedKidRefetchesEachTimeAndFails() async throws {
        try await HostileIdP.with { idp in
            let client = try idp.client()
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaB.token(Keys.claims(issuer: idp.issuer))
            await expectRejection(.idTokenKeyNotFound) { try await Self.login(idp, client, idToken: token) }
            #expect(idp.jwksHits == 2)
            await expectRejection(.idTokenKeyNotFound) { try await Self.login(idp, client, idToken: token) }
            #expect(idp.jwksHits == 3)
        }
    }

    /// Eight logins arrive together under the new key while the refetch is on its way: one fetch.
    @Test func concurrentLoginsShareOneFetch() async throws {
        try await HostileIdP.with { idp in
            let client = try idp.client()
            let claims = Keys.claims(issuer: idp.issuer)
            idp.publish(Keys.rsaA)
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims))
            #expect(idp.jwksHits == 1)

            var rotated = HostileIdP.Reply.json(Keys.jwks([Keys.rsaA.publicJWK(), Keys.rsaB.publicJWK()]))
            rotated.delay = .milliseconds(300)
            idp.setJWKS(rotated)
            idp.setToken(.tokens(idToken: try Keys.rsaB.token(claims)))
            let outcomes = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            return try await client.exchange(idp.callback, pending: HostileIdP.pending).idToken?.keyID
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0 == Keys.rsaB.kid }, "\(outcomes)")
            #expect(idp.jwksHits == 2)
        }
    }

    /// A forged kid's refetch is on its way (slow IdP) and will bring the old key set: a login
    /// under a key the IdP has just published neither waits for it nor takes its answer, and a
    /// login under a key already held goes through at once. Before, the login joined the forged
    /// token's fetch and failed with id_token_key_not_found.
    @Test func aForgedKidsFetchInFlightNeitherDelaysNorFailsALogin() async throws {
        try await HostileIdP.with { idp in
            // The forged fetch is answered after 10 s (under the 20 s timeout): long enough that
            // the two logins below finish before it even on a loaded machine.
            let client = try idp.client { $0.timeout = .seconds(20) }
            let claims = Keys.claims(issuer: idp.issuer)
            idp.publish(Keys.rsaA)
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims))

            var slowOld = HostileIdP.Reply.json(Keys.jwks([Keys.rsaA.publicJWK()]))
            slowOld.delay = .seconds(10)
            idp.setJWKS(slowOld)
            let forged = try Self.logoutToken(idp, key: Keys.attacker, kid: "forged")
            let forgedDone = Flag()
            async let forgedOutcome: Void = {
                await expectRejection(.idTokenKeyNotFound) { try await client.validateLogoutToken(forged) }
                forgedDone.set()
            }()
            try await Self.waitUntil { idp.jwksHits == 2 }

            // A key already held: no fetch involved.
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims))
            // A key just published: the login's own fetch, answered at once.
            idp.publish(Keys.rsaA, Keys.rsaB)
            let result = try await Self.login(idp, client, idToken: try Keys.rsaB.token(claims))
            #expect(result.idToken?.keyID == Keys.rsaB.kid)
            #expect(idp.jwksHits == 3)
            #expect(!forgedDone.isSet, "the logins waited for the forged token's fetch")

            // The slow fetch ends (the IdP answers it early at shutdown, or after its delay) with
            // the older set, which must not replace the newer one.
            idp.setJWKS(.json(Keys.jwks([])))
            _ = await forgedOutcome
            _ = try await Self.login(idp, client, idToken: try Keys.rsaB.token(claims))
            #expect(idp.jwksHits == 3)
        }
    }

    /// Keys older than keysMaxAge are refreshed in the background: a login under a held key
    /// does not wait for the refresh, which replaces them when it arrives. Before, every
    /// login after the hour waited for the JWKS endpoint.
    @Test func staleKeysServeWhileTheirRefreshRuns() async throws {
        try await HostileIdP.with { idp in
            let clock = HostileIdP.ManualClock()
            // The refresh answers after 8 s (under the 20 s timeout), and a login that waited for
            // it would take that long: one that did not finishes well within 6 s even on a
            // loaded machine (a login alone took 3.5 s during the whole suite on two cores).
            let client = try idp.client(clock: clock.wallClock) {
                $0.keysMaxAge = .seconds(3600)
                $0.timeout = .seconds(20)
            }
            idp.publish(Keys.rsaA)
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(Keys.claims(issuer: idp.issuer)))

            clock.advance(by: 3601)
            var slow = HostileIdP.Reply.json(Keys.jwks([Keys.rsaB.publicJWK()]))
            slow.delay = .seconds(8)
            idp.setJWKS(slow)
            let claims = Keys.claims(issuer: idp.issuer, now: clock.now)
            let started = ContinuousClock.now
            _ = try await Self.login(idp, client, idToken: try Keys.rsaA.token(claims))
            #expect(ContinuousClock.now - started < .seconds(6), "the login waited for the scheduled refresh")
            try await Self.waitUntil { idp.jwksHits == 2 }

            // Once the refresh has landed, A is gone and B is there, with no further fetch.
            try await Self.waitUntil(timeout: .seconds(20)) {
                (try? await client.validateIDToken(try Keys.rsaB.token(claims), nonce: HostileIdP.nonce)) != nil
            }
            #expect(idp.jwksHits == 2)
        }
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// Polls `condition` until it holds, failing after `timeout`.
    static func waitUntil(
        timeout: Duration = .seconds(5), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TestKeys.Failure("condition not met within \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
