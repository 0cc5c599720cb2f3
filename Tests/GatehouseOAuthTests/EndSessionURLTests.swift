import Foundation
import GatehouseOAuth
import Testing

/// RP-Initiated Logout 1.0 §2: the end-session URL names our client_id and, from the stored ID
/// token, a logout_hint (its login_hint claim, else its sid) beside the id_token_hint.
@Suite struct EndSessionURLTests {
    typealias Keys = TestKeys

    static func query(_ url: URL?) -> [String: String] {
        let items = url.flatMap { URLComponents(url: $0, resolvingAgainstBaseURL: false)?.queryItems } ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }) { first, _ in first }
    }

    @Test func theURLCarriesClientIDAndLogoutHint() async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery(["end_session_endpoint": .string(idp.issuer + "/logout")])
            let client = try idp.client()
            var claims = Keys.claims(issuer: idp.issuer)
            claims["sid"] = .string("op-session-7")
            let idToken = try Keys.rsaA.token(claims)
            let hint = OAuthClient.logoutHint(forIDToken: idToken)
            #expect(hint == "op-session-7")
            let url = try await client.endSessionURL(
                idTokenHint: idToken, logoutHint: hint, postLogoutRedirectURI: "https://rp.example/")
            let query = Self.query(url)
            #expect(url?.absoluteString.hasPrefix(idp.issuer + "/logout?") == true)
            #expect(query["client_id"] == HostileIdP.clientID)
            #expect(query["logout_hint"] == "op-session-7")
            #expect(query["id_token_hint"] == idToken)
            #expect(query["post_logout_redirect_uri"] == "https://rp.example/")
        }
    }

    @Test func theLoginHintClaimWinsAndNoHintIsSentWithoutOne() throws {
        var claims = Keys.claims(issuer: "https://idp.example")
        claims["sid"] = .string("op-session-7")
        claims["login_hint"] = .string("O.aVQ3ZTc")
        #expect(OAuthClient.logoutHint(forIDToken: try Keys.rsaA.token(claims)) == "O.aVQ3ZTc")
        #expect(OAuthClient.logoutHint(forIDToken: try Keys.rsaA.token(Keys.claims(issuer: "https://idp.example"))) == nil)
        #expect(OAuthClient.logoutHint(forIDToken: "not a token") == nil)
    }
}
