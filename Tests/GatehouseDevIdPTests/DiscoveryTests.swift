import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import Testing

/// Discovery, the JWKS, the development-only guard rails.
@Suite("Dev IdP discovery")
struct DiscoveryTests {
    @Test func ourClientDiscoversTheIdP() async throws {
        try await IdPFixture.with { fixture in
            let metadata = try await fixture.client().metadata()
            #expect(metadata.issuer == fixture.issuer)
            #expect(metadata.authorizationEndpoint == fixture.issuer + "/authorize")
            #expect(metadata.tokenEndpoint == fixture.issuer + "/token")
            #expect(metadata.userInfoEndpoint == fixture.issuer + "/userinfo")
            #expect(metadata.revocationEndpoint == fixture.issuer + "/revoke")
            #expect(metadata.endSessionEndpoint == fixture.issuer + "/end_session")
            #expect(metadata.authorizationResponseIssParameterSupported == true)
            #expect(metadata.codeChallengeMethodsSupported == ["S256"])
            #expect(metadata.backchannelLogoutSupported == true)
            #expect(Set(metadata.idTokenSigningAlgValuesSupported ?? []) == ["RS256", "ES256"])
        }
    }

    @Test func jwksPublishesAnRS256AndAnES256Key() async throws {
        try await IdPFixture.with { fixture in
            let reply = try await TestBrowser().send(fixture.issuer + "/jwks")
            #expect(reply.status == 200)
            let document = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
            let keys = try #require(document?["keys"] as? [[String: Any]])
            #expect(keys.compactMap { $0["alg"] as? String }.sorted() == ["ES256", "RS256"])
            #expect(keys.compactMap { $0["kid"] as? String }.sorted() == fixture.idp.signingKeyIDs.sorted())
            #expect(keys.allSatisfy { $0["d"] == nil })
            let keyIDs = try await fixture.client().signingKeyIDs()
            #expect(keyIDs.count == 2)
        }
    }

    @Test func refusesANonLoopbackAddressUnlessForced() throws {
        var configuration = IdentityProvider.Configuration()
        configuration.host = "0.0.0.0"
        #expect(throws: DevIdPError.self) { try IdentityProvider(configuration: configuration) }
        configuration.forceNonLoopback = true
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.host = "::1"
        configuration.forceNonLoopback = false
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test func everyPageSaysDevelopmentOnly() async throws {
        try await IdPFixture.with { fixture in
            let home = try await TestBrowser().send(fixture.issuer + "/")
            #expect(home.body.contains(DevelopmentOnly.banner))
            #expect(home.body.contains("name=\"viewport\""))
            #expect(home.headers.first(name: "content-security-policy")?.contains("default-src 'none'") == true)
            #expect(home.headers.first(name: "x-frame-options") == "DENY")
            let request = try await fixture.client().authorizationRequest()
            let login = try await TestBrowser().send(request.url.absoluteString)
            #expect(login.status == 200)
            #expect(login.body.contains(DevelopmentOnly.banner))
            #expect(login.body.contains("<label for=\"username\">") && login.body.contains("<label for=\"password\">"))
            #expect(!login.body.contains("http://") && !login.body.contains("https://"), "no external resources")
        }
    }

    @Test func testUsersFromFlagsAndJSON() throws {
        let carol = try TestUser(flag: "carol:pw:carol@example.net:Carol C:staff,ops")
        #expect(carol.groups == ["staff", "ops"])
        #expect(carol.name == "Carol C")
        #expect(throws: DevIdPError.self) { try TestUser(flag: "nopassword") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("devidp-users-\(UUID()).json").path
        try Data(#"[{"username":"dave","password":"d","groups":["x"]}]"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let users = try TestUser.load(jsonFile: path)
        #expect(users.map(\.subject) == ["dave"])
        #expect(users.first?.emailVerified == true)
    }
}
