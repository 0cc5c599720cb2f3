import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import JWTKit
import Testing

/// Signed authorization requests (RFC 9101, JAR): ``OAuthClient`` signs the request with its
/// `private_key_jwt` key, plain or pushed (RFC 9126); the development IdP uses only the signed
/// parameters and refuses an object it cannot verify.
@Suite("Signed request objects")
struct RequestObjectTests {
    func jarClient(_ fixture: IdPFixture, key: ClientSigningKey, pushed: Bool = false) throws -> OAuthClient {
        let base = try fixture.client("jar-client", authentication: .privateKeyJWT(key: key))
        var configuration = base.configuration
        configuration.signsRequestObjects = true
        configuration.pushedAuthorization = pushed ? .always : .never
        return try OAuthClient(provider: base.provider, configuration: configuration)
    }

    @Test(arguments: [false, true])
    func aSignedRequestLogsIn(pushed: Bool) async throws {
        let key = PrivateKeyJWTTests.p256Key()
        try await IdPFixture.with { fixture in
            PrivateKeyJWTTests.register(fixture, id: "jar-client", publicPEM: key.publicPEM)
            let client = try jarClient(fixture, key: try ClientSigningKey(pem: key.privatePEM), pushed: pushed)
            let request = try await client.authorizationRequest()
            let query = TestBrowser.query(request.url)
            if pushed {
                #expect(Set(query.keys) == ["client_id", "request_uri"])
            } else {
                #expect(Set(query.keys) == ["client_id", "request", "response_type", "scope"])
                #expect(query["state"] == nil && query["code_challenge"] == nil, "only inside the signed object")
            }
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            let result = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending)
            #expect(result.identity.subject == "alice")
        }
    }

    @Test func onlyTheSignedParametersCountAndBadObjectsAreRefused() async throws {
        let key = PrivateKeyJWTTests.p256Key()
        let other = PrivateKeyJWTTests.p256Key()
        try await IdPFixture.with { fixture in
            PrivateKeyJWTTests.register(fixture, id: "jar-client", publicPEM: key.publicPEM)
            let client = try jarClient(fixture, key: try ClientSigningKey(pem: key.privatePEM))
            // Parameters added outside the object are ignored: the code goes to the signed
            // redirect URI with the signed state.
            let request = try await client.authorizationRequest()
            let outside = request.url.absoluteString + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=evil"
            let callback = try await TestBrowser().signIn(
                at: try #require(URL(string: outside)), username: "alice", password: "alice")
            #expect(callback.absoluteString.hasPrefix(IdPFixture.redirectURI))
            #expect(TestBrowser.query(callback)["state"] == request.pending.state)

            // A changed payload, another key's signature: refused with a page.
            let jwt = try #require(TestBrowser.query(request.url)["request"])
            let parts = jwt.split(separator: ".").map(String.init)
            let tampered = parts[0] + "." + parts[1].dropLast() + (parts[1].hasSuffix("A") ? "B" : "A") + "." + parts[2]
            let forger = try jarClient(fixture, key: try ClientSigningKey(pem: other.privatePEM))
            let forged = try #require(TestBrowser.query(try await forger.authorizationRequest().url)["request"])
            for object in [tampered, forged] {
                let reply = try await TestBrowser().send(
                    fixture.issuer + "/authorize?" + TestBrowser.encode([("client_id", "jar-client"), ("request", object)]))
                #expect(reply.status == 400)
            }
            // A client without a registered key cannot send one.
            let foreign = try await TestBrowser().send(
                fixture.issuer + "/authorize?" + TestBrowser.encode([("client_id", "rs-client"), ("request", jwt)]))
            #expect(foreign.status == 400 && foreign.body.contains("no registered key"))
        }
    }
}
