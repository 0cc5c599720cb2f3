import Foundation
import GatehouseTesting
import GatehouseOAuth
import Testing

/// Key rotation: new tokens carry the new `kid`; our client refetches the JWKS on the unknown
/// `kid`; tokens signed before the rotation still validate (the previous keys stay published).
@Suite("Dev IdP key rotation")
struct KeyRotationTests {
    @Test func validationSurvivesARotation() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let before = try await fixture.logIn(client)
            let oldKeyID = try #require(before.idToken?.keyID)
            try fixture.idp.rotateKeys()
            #expect(!fixture.idp.signingKeyIDs.contains(oldKeyID))
            let after = try await fixture.logIn(client)
            #expect(after.idToken?.keyID == fixture.idp.signingKeyIDs[0])
            // The earlier token still verifies against the published previous key.
            let rawBefore = try #require(before.idToken?.rawValue)
            _ = try await client.validateIDToken(rawBefore, nonce: nil, accessToken: before.tokens.accessToken)
        }
    }

    @Test func theAdminEndpointRotatesFromLoopback() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client("es-client")
            _ = try await fixture.logIn(client)
            let old = fixture.idp.signingKeyIDs
            let reply = try await TestBrowser().send(fixture.issuer + "/admin/rotate-keys", form: [])
            #expect(reply.status == 200)
            #expect(fixture.idp.signingKeyIDs != old)
            #expect(reply.body.contains(fixture.idp.signingKeyIDs[1]))
            let after = try await fixture.logIn(client)
            #expect(after.idToken?.algorithm == "ES256")
            #expect(after.idToken?.keyID == fixture.idp.signingKeyIDs[1])
        }
    }
}
