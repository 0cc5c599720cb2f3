import Foundation
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Logging

extension OAuthRoutes {
    /// `POST /oauth2/sign_out`: refuse cross-site requests, delete the session, revoke its
    /// refresh token (RFC 7009), clear the cookie, and send the browser to the IdP's
    /// end-session endpoint (RP-Initiated Logout §2) or to `/`.
    func signOut(_ request: Request, context: Context) async -> Response {
        guard OriginCheck.isSameOrigin(request, accepting: auth.settings.isOwnOrigin) else {
            auth.logger.notice("cross-site sign-out refused")
            return Page(
                status: .forbidden, title: "Sign-out refused",
                message: "This sign-out request came from another site.", category: "cross_site_request",
                link: (href: "/oauth2/sign_out", text: "Sign out from here")
            ).response()
        }
        var ended: SessionWithTokenSet?
        if let value = request.cookies[auth.cookies.sessionName]?.value, let id = SessionID(cookieValue: value) {
            do {
                // Deletes the row and returns its refresh and ID tokens (they are not cached).
                ended = try await auth.store.end(id.hash)
            } catch {
                auth.logger.error("cannot delete a session", metadata: ["error": "\(AuthService.errorCode(error))"])
                return Self.storeUnavailable
            }
        }
        var location = "/"
        if let ended {
            AuthMetrics.signOut()
            auth.logger.info("signed out", metadata: ["session": "\(ended.session.idHash.shortDescription)"])
            // At the provider the session came from; one no longer configured gets nothing.
            if let provider = auth.provider(id: ended.session.provider) {
                await revoke(ended.tokenSet, at: provider.client)
                if let url = await endSessionURL(idToken: ended.tokenSet.idToken, at: provider.client) {
                    location = url
                }
            }
        }
        return Self.redirect(to: location, cookies: [auth.cookies.clearSession()])
    }

    /// Revokes the refresh token (which ends the grant), else the access token. A provider
    /// without a revocation endpoint is fine; other failures are logged.
    private func revoke(_ tokens: TokenSet, at client: OAuthClient) async {
        do {
            if let refreshToken = tokens.refreshToken {
                try await client.revoke(refreshToken, hint: .refreshToken)
            } else {
                try await client.revoke(tokens.accessToken, hint: .accessToken)
            }
        } catch where error.code == .endpointNotSupported {
            return
        } catch {
            auth.logger.warning("token revocation failed", metadata: ["error": "\(error.code)"])
        }
    }

    /// The IdP's end-session URL with `client_id`, `logout_hint`, `id_token_hint` and
    /// `post_logout_redirect_uri`, or `nil`. The ID token stays in the URL because without it
    /// the IdP must ask the user before ending its session (RP-Initiated Logout §2) and some
    /// IdPs refuse the redirect; an ID token is no credential (bearers are RFC 9068 access tokens).
    private func endSessionURL(idToken: String?, at client: OAuthClient) async -> String? {
        guard auth.settings.endIdPSession else { return nil }
        let postLogout = auth.settings.postLogoutRedirectURI ?? auth.settings.publicURL + "/"
        do {
            return try await client.endSessionURL(
                idTokenHint: idToken, logoutHint: idToken.flatMap(OAuthClient.logoutHint(forIDToken:)),
                postLogoutRedirectURI: postLogout)?
                .absoluteString
        } catch {
            auth.logger.warning("no end-session URL", metadata: ["error": "\(error.code)"])
            return nil
        }
    }
}
