import Foundation
import GatehouseOAuth
import Synchronization
import GatehouseTestSupport
import Testing

/// The full protocol against a real OpenID Connect provider: django-oauth-toolkit, started on
/// 127.0.0.1 by scripts/test.sh, with its real login form, keys and endpoints.
@Suite("Interop with django-oauth-toolkit", .serialized)
struct InteropTests {
    /// Runs the browser part of a login and returns the callback parameters.
    func signIn(
        _ client: OAuthClient,
        as username: String = "alice",
        password: String = "alice-password-1",
        consent: Bool? = nil
    ) async throws -> (CallbackParameters, PendingAuthorization) {
        let request = try await client.authorizationRequest()
        let callbackURL = try await DOTBrowser().signIn(
            startingAt: request.url, username: username, password: password, consent: consent)
        let query = URLComponents(url: callbackURL, resolvingAgainstBaseURL: false)?.percentEncodedQuery ?? ""
        return (try CallbackParameters(query: Substring(query)), request.pending)
    }

    func login(_ client: OAuthClient) async throws -> LoginResult {
        let (callback, pending) = try await signIn(client)
        return try await client.exchange(callback, pending: pending)
    }

    func expectError(_ code: OAuthError.Code, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code), got success")
        } catch let error as OAuthError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("expected \(code), got \(error)")
        }
    }

    @Test func discoveryReadsTheRealMetadata() async throws {
        let issuer = try DOT.issuer()
        let metadata = try await DOT.client().metadata()
        #expect(metadata.issuer == issuer)
        #expect(metadata.tokenEndpoint.hasPrefix(issuer))
        #expect(metadata.jwksURI != nil)
        #expect(metadata.userInfoEndpoint != nil)
        #expect(metadata.endSessionEndpoint != nil)
        #expect(metadata.authorizationResponseIssParameterSupported == true)
        #expect(metadata.codeChallengeMethodsSupported?.contains("S256") == true)
    }

    @Test func authorizationURLCarriesPKCEStateAndNonce() async throws {
        let request = try await DOT.client().authorizationRequest()
        let items = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        #expect(value("response_type") == "code")
        #expect(value("code_challenge_method") == "S256")
        #expect(value("state") == request.pending.state)
        #expect(value("nonce") == request.pending.nonce)
        #expect(value("redirect_uri") == DOT.redirectURI)
        #expect(value("code_challenge")?.count == 43)
        #expect(request.pending.state.count == 43)  // 256 bits
        #expect(!request.url.absoluteString.contains(request.pending.codeVerifier))
    }

    @Test func codeExchangeWithClientSecretBasic() async throws {
        let client = try DOT.client()
        let result = try await login(client)
        #expect(result.identity.subject == "1")
        #expect(result.identity.email == "alice@example.com")
        #expect(result.identity.emailVerified == true)
        #expect(result.identity.name == "Alice Liddell")
        #expect(result.identity.preferredUsername == "alice")
        #expect(result.identity.groups == ["staff"])
        #expect(result.idToken?.algorithm == "RS256")
        #expect(result.idToken?.keyID != nil)
        #expect(result.idToken?.claims.accessTokenHash != nil)
        #expect(result.tokens.refreshToken != nil)
        #expect(result.tokens.tokenType.lowercased() == "bearer")
        let expiresAt = try #require(result.tokens.expiresAt)
        #expect(expiresAt > Date())
    }

    @Test func codeExchangeWithClientSecretPost() async throws {
        let client = try DOT.client(authentication: .clientSecretPost(DOT.secret))
        let result = try await login(client)
        #expect(result.identity.subject == "1")
    }

    @Test func codeExchangeAsPublicClientWithPKCEOnly() async throws {
        let client = try DOT.client(DOT.publicClient, authentication: .none)
        let (callback, pending) = try await signIn(client, as: "bob", password: "bob-password-1")
        let result = try await client.exchange(callback, pending: pending)
        #expect(result.identity.subject == "2")
        #expect(result.identity.email == "bob@example.org")
        #expect(result.identity.groups.isEmpty)
    }

    @Test func wrongPKCEVerifierIsRejectedByTheIdP() async throws {
        let client = try DOT.client()
        let (callback, pending) = try await signIn(client)
        var forged = pending
        forged.codeVerifier = PKCE().verifier
        await expectError(.invalidGrant) { _ = try await client.exchange(callback, pending: forged) }
    }

    @Test func wrongClientSecretIsInvalidClient() async throws {
        let client = try DOT.client(authentication: .clientSecretBasic("not-the-secret"))
        let (callback, pending) = try await signIn(client)
        await expectError(.invalidClient) { _ = try await client.exchange(callback, pending: pending) }
    }

    @Test func reusedCodeIsInvalidGrant() async throws {
        let client = try DOT.client()
        let (callback, pending) = try await signIn(client)
        _ = try await client.exchange(callback, pending: pending)
        await expectError(.invalidGrant) { _ = try await client.exchange(callback, pending: pending) }
    }

    @Test func expiredCodeIsInvalidGrant() async throws {
        let client = try DOT.client()
        let (callback, pending) = try await signIn(client)
        // scripts/start-idp.sh gives codes an 8-second lifetime.
        try await Task.sleep(for: .seconds(9))
        await expectError(.invalidGrant) { _ = try await client.exchange(callback, pending: pending) }
    }

    @Test func callbackFromAnotherLoginIsAStateMismatch() async throws {
        let client = try DOT.client()
        let (callback, _) = try await signIn(client)
        let other = try await client.authorizationRequest()
        await expectError(.stateMismatch) { _ = try await client.exchange(callback, pending: other.pending) }
    }

    @Test func consentGrantedAndDenied() async throws {
        let client = try DOT.client(DOT.consentClient)
        let (granted, pending) = try await signIn(client, consent: true)
        let result = try await client.exchange(granted, pending: pending)
        #expect(result.identity.subject == "1")

        let (denied, deniedPending) = try await signIn(client, consent: false)
        #expect(denied.error?.error == "access_denied")
        // DOT promises RFC 9207 iss but leaves it off error redirects; §2.4 says such a
        // response must be refused. The IdP's error stays attached for the error page.
        #expect(denied.issuer == nil)
        do {
            _ = try await client.exchange(denied, pending: deniedPending)
            Issue.record("a denied login must not succeed")
        } catch {
            #expect(error.code == .missingIssuer)
            #expect(error.response?.error == "access_denied")
        }
    }

    @Test func userInfoMatchesTheIDTokenSubject() async throws {
        let client = try DOT.client()
        let result = try await login(client)
        let claims = try await client.userInfo(accessToken: result.tokens.accessToken, subject: result.identity.subject)
        #expect(claims["email"]?.stringValue == "alice@example.com")
        await expectError(.userInfoSubjectMismatch) {
            _ = try await client.userInfo(accessToken: result.tokens.accessToken, subject: "2")
        }
    }

    /// OpenID Connect Core §5.4: a provider may leave the scope claims out of the ID token and
    /// serve them from userinfo only. The login then asks userinfo once and completes the
    /// identity; with a complete ID token it does not ask. (On the refresh-counting instance,
    /// whose access log the test reads; its other users never call userinfo.)
    @Test func thinIDTokenIsCompletedFromUserInfoAndOnlyThen() async throws {
        let issuer = try DOT.refreshIssuer()
        // Counted per client (the IdP logs each userinfo request with its client): other tests
        // call userinfo on this instance meanwhile. gatehouse-life-75 sends complete ID tokens
        // and no other test asks userinfo with it; gatehouse-thin is this test's alone.
        func userInfoCalls(_ clientID: String) async throws -> Int {
            try await Task.sleep(for: .milliseconds(500))  // Django logs just after answering
            return try DOT.refreshInstanceRequests(containing: "gatehouse-idp: userinfo for \(clientID)")
        }
        let completeBefore = try await userInfoCalls("gatehouse-life-75")
        let complete = try await login(try DOT.client("gatehouse-life-75", issuer: issuer))
        #expect(complete.identity.email == "alice@example.com")
        #expect(try await userInfoCalls("gatehouse-life-75") == completeBefore)

        let before = try await userInfoCalls(DOT.thinClient)
        let thin = try await login(try DOT.client(DOT.thinClient, issuer: issuer))
        #expect(thin.idToken?.claims.all["email"] == nil)  // the IdP did leave them out
        #expect(thin.idToken?.claims.all["groups"] == nil)
        #expect(thin.identity.subject == "1")
        #expect(thin.identity.email == "alice@example.com")
        #expect(thin.identity.emailVerified == true)
        #expect(thin.identity.name == "Alice Liddell")
        #expect(thin.identity.preferredUsername == "alice")
        #expect(thin.identity.groups == ["staff"])
        #expect(try await userInfoCalls(DOT.thinClient) == before + 1)
    }

    @Test func refreshWithRotation() async throws {
        let client = try DOT.client()
        let first = try await login(client)
        let refreshed = try await client.refresh(first.tokens, subject: first.identity.subject)
        #expect(refreshed.accessToken != first.tokens.accessToken)
        #expect(refreshed.refreshToken != nil)
        #expect(refreshed.refreshToken != first.tokens.refreshToken)
        _ = try await client.userInfo(accessToken: refreshed.accessToken, subject: "1")
        // The rotated-out refresh token is dead.
        await expectError(.invalidGrant) { _ = try await client.refresh(first.tokens) }
    }

    @Test func refreshWithoutRotation() async throws {
        let client = try DOT.client(rotating: false)
        let first = try await login(client)
        let once = try await client.refresh(first.tokens, subject: "1")
        #expect(once.refreshToken == first.tokens.refreshToken)
        let twice = try await client.refresh(once, subject: "1")
        #expect(twice.accessToken != once.accessToken)
    }

    @Test func refreshedIDTokenMustKeepTheSubject() async throws {
        let client = try DOT.client()
        let first = try await login(client)
        await expectError(.idTokenSubjectChanged) { _ = try await client.refresh(first.tokens, subject: "2") }
    }

    @Test func revocationEndsTheGrant() async throws {
        let client = try DOT.client()
        let result = try await login(client)
        try await client.revoke(try #require(result.tokens.refreshToken), hint: .refreshToken)
        await expectError(.invalidGrant) { _ = try await client.refresh(result.tokens) }
        await expectError(.invalidGrant) { _ = try await client.userInfo(accessToken: result.tokens.accessToken, subject: nil) }
    }

    @Test func clientCredentialsGrant() async throws {
        let client = try DOT.client(DOT.serviceClient, authentication: .clientSecretBasic(DOT.serviceSecret), scopes: [])
        let tokens = try await client.clientCredentials(scopes: ["email"])
        #expect(!tokens.accessToken.isEmpty)
        #expect(tokens.scope == ["email"])
        #expect(tokens.refreshToken == nil)
        await expectError(.invalidScope) { _ = try await client.clientCredentials(scopes: ["no-such-scope"]) }
    }

    @Test func rpInitiatedLogoutRedirectsBack() async throws {
        let client = try DOT.client()
        let result = try await login(client)
        let url = try #require(
            try await client.endSessionURL(
                idTokenHint: result.idToken?.rawValue, postLogoutRedirectURI: DOT.postLogoutRedirectURI, state: "bye"))
        let page = try await DOTBrowser().fetch(url)
        #expect(page.status == 302)
        #expect(page.headers.first(name: "location") == DOT.postLogoutRedirectURI + "?state=bye")
    }

    @Test func tokenProviderRefreshesOnceForManyCallersAndSavesTheRotatedToken() async throws {
        let now = Mutex(Date())
        let clock = WallClock { now.withLock { $0 } }
        let client = try DOT.client(clock: clock)
        let first = try await login(client)
        let saved = Mutex<[TokenSet]>([])
        let provider = TokenProvider(
            client: client, source: .refreshToken(subject: first.identity.subject), tokens: first.tokens,
            leeway: .seconds(30)
        ) { tokens in saved.withLock { $0.append(tokens) } }
        // Fresh: no refresh.
        #expect(try await provider.token().accessToken == first.tokens.accessToken)
        // Move the clock to just before expiry: 20 concurrent callers, one refresh grant.
        let expiresAt = try #require(first.tokens.expiresAt)
        now.withLock { $0 = expiresAt.addingTimeInterval(-10) }
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.token().accessToken } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1)
        #expect(!tokens.contains(first.tokens.accessToken))
        let rotated = saved.withLock { $0 }
        #expect(rotated.count == 1)
        #expect(rotated.first?.refreshToken != first.tokens.refreshToken)
        _ = try await client.userInfo(accessToken: try #require(tokens.first), subject: "1")
    }
}
