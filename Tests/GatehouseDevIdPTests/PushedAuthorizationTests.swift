import AsyncHTTPClient
import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import GatehouseTestSupport
import Testing

/// Pushed Authorization Requests (RFC 9126), the client (``OAuthClient``) against the
/// development IdP's `/par`: the browser carries only `client_id` and a one-time
/// `request_uri`; what a strict server refuses, it refuses.
@Suite("Pushed authorization requests")
struct PushedAuthorizationTests {
    func pushingClient(_ fixture: IdPFixture, _ mode: PushedAuthorization = .always, clientID: String = "rs-client")
        throws -> OAuthClient
    {
        let base = try fixture.client(clientID)
        var configuration = base.configuration
        configuration.pushedAuthorization = mode
        return try OAuthClient(provider: base.provider, configuration: configuration)
    }

    /// POSTs `form` to `/par` with `authorization` (a Basic header value, or none).
    func push(_ fixture: IdPFixture, _ form: [(String, String)], basic: String? = "rs-client:rs-secret") async throws
        -> (status: Int, body: String)
    {
        var request = HTTPClientRequest(url: fixture.issuer + "/par")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let basic { request.headers.add(name: "Authorization", value: "Basic " + Data(basic.utf8).base64EncodedString()) }
        request.body = .bytes(Array(TestBrowser.encode(form).utf8))
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 16)))
    }

    @Test func aPushedLoginCarriesOnlyTheClientAndTheRequestURI() async throws {
        try await IdPFixture.with { fixture in
            let client = try pushingClient(fixture)
            let request = try await client.authorizationRequest()
            let query = TestBrowser.query(request.url)
            #expect(Set(query.keys) == ["client_id", "request_uri"], "\(request.url)")
            #expect(query["request_uri"]?.hasPrefix("urn:ietf:params:oauth:request_uri:") == true)
            let browser = TestBrowser()
            let callback = try await browser.signIn(at: request.url, username: "alice", password: "alice")
            let result = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending)
            #expect(result.identity.subject == "alice")
            // Single use: the same request_uri again is refused.
            let replay = try await TestBrowser().send(request.url.absoluteString)
            #expect(replay.status == 400)
        }
    }

    @Test func theServerRefusesWhatRFC9126Forbids() async throws {
        try await IdPFixture.with { fixture in
            let valid: [(String, String)] = [
                ("response_type", "code"), ("client_id", "rs-client"), ("redirect_uri", IdPFixture.redirectURI),
                ("scope", "openid"), ("state", "s"), ("code_challenge", String(repeating: "A", count: 43)),
                ("code_challenge_method", "S256"),
            ]
            let pushed = try await push(fixture, valid)
            #expect(pushed.status == 201 && pushed.body.contains("\"expires_in\":60"), "\(pushed.body)")
            #expect(try await push(fixture, valid, basic: "rs-client:wrong").status == 401)
            #expect(try await push(fixture, valid, basic: nil).status == 401)
            let otherClient = valid.map { $0.0 == "client_id" ? ("client_id", "es-client") : $0 }
            let mismatch = try await push(fixture, otherClient)
            #expect([400, 401].contains(mismatch.status) && !mismatch.body.contains("request_uri"), "\(mismatch.body)")
            let badRedirect = valid.map { $0.0 == "redirect_uri" ? ("redirect_uri", "https://evil.example/cb") : $0 }
            #expect(try await push(fixture, badRedirect).status == 400)
            #expect(try await push(fixture, valid + [("request_uri", "urn:x")]).body.contains("cannot be pushed"))
            #expect(try await push(fixture, valid + [("state", "again")]).body.contains("more than once"))

            // A request_uri is the pushing client's: another client_id cannot use it.
            let body = try JSONSerialization.jsonObject(with: Data(pushed.body.utf8)) as? [String: Any]
            let uri = try #require(body?["request_uri"] as? String)
            let stolen = try await TestBrowser().send(
                fixture.issuer + "/authorize?" + TestBrowser.encode([("client_id", "es-client"), ("request_uri", uri)]))
            #expect(stolen.status == 400)
        }
    }

    @Test func aClientThatMustPushCannotSendPlainRequests() async throws {
        try await IdPFixture.with(configure: { configuration in
            configuration.clients[0].requirePushedAuthorizationRequests = true
        }) { fixture in
            let plain = try await fixture.client().authorizationRequest()
            let refused = try await TestBrowser().send(plain.url.absoluteString)
            #expect(refused.status == 400 && refused.body.contains("push"))
            let result = try await fixture.logIn(try pushingClient(fixture))
            #expect(result.identity.subject == "alice")
            // auto pushes only when the provider's metadata requires it (this one requires it per client).
            let auto = try await pushingClient(fixture, .auto).authorizationRequest()
            #expect(TestBrowser.query(auto.url)["request_uri"] == nil)
        }
    }
}
