import Foundation
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Logging

extension OAuthRoutes {
    /// The largest request body accepted (a logout token is a few hundred bytes).
    static var maximumLogoutBodyBytes: Int { 16 * 1024 }

    /// `POST /oauth2/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0 §2.5–§2.8):
    /// the IdP posts `logout_token=…` server to server; the token is validated (signature,
    /// `iss`, `aud`, times, `events`, no `nonce`, `jti`), its `jti` must not have been seen,
    /// then the sessions of its `sid` — or, without one, of its `sub` — are deleted, among the
    /// sessions of the provider whose keys and issuer the token passed only.
    ///
    /// `200` with `Cache-Control: no-store` on success (also when no session matched: the RP
    /// has none left for that IdP session); `400` JSON `{"error": "invalid_request",
    /// "error_description": …}` on any failure (§2.8). There is no `Origin` check: the request
    /// does not come from a browser and is authenticated by the token's signature.
    func backchannelLogout(_ request: Request, context: Context) async -> Response {
        guard Self.isFormEncoded(request.headers[.contentType]) else {
            return refuseLogout("content_type", "the body must be application/x-www-form-urlencoded")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumLogoutBodyBytes)
        } catch {
            return refuseLogout("body_too_large", "the request body is too large")
        }
        guard let form = FormBody.parse(String(buffer: buffer)) else {
            return refuseLogout("malformed_body", "the body is not valid form encoding")
        }
        let tokens = form.filter { $0.0 == "logout_token" }.map(\.1)
        guard tokens.count == 1, let rawToken = tokens.first, !rawToken.isEmpty else {
            return refuseLogout("missing_logout_token", "the body must hold exactly one logout_token")
        }
        let token: LogoutToken
        let provider: LoginProvider
        switch await validatedLogoutToken(rawToken) {
        case .success(let validated): (token, provider) = validated
        case .failure(let error): return refuseLogout(error.code.rawValue, error.message)
        }
        // Kept until the token could no longer pass the `exp` check anyway.
        let keepUntil = token.expiresAt.addingTimeInterval(
            TimeInterval(provider.client.configuration.clockSkew.components.seconds))
        switch auth.logoutReplayCache.record(token.tokenID, until: keepUntil, now: auth.store.clock.now) {
        case .replayed:
            return refuseLogout("logout_token_replayed", "this logout token was already used")
        case .recordedAfterEviction:
            auth.logger.warning("logout replay cache full; evicted a live entry", metadata: ["capacity": "\(auth.logoutReplayCache.capacity)"])
        case .recorded:
            break
        }
        let ended: Int
        do {
            if let sessionID = token.sessionID {
                ended = try await auth.store.deleteAll(idpSessionID: sessionID, provider: provider.id)
            } else if let subject = token.subject {
                ended = try await auth.store.deleteAll(subject: subject, provider: provider.id)
            } else {
                ended = 0  // The verifier guarantees one of the two.
            }
        } catch {
            // Not done: let the IdP retry the same token.
            auth.logoutReplayCache.forget(token.tokenID)
            auth.logger.error("back-channel logout: store unavailable", metadata: ["error": "\(AuthService.errorCode(error))"])
            AuthMetrics.backchannelLogout("store_unavailable")
            return JSONResponse.oauthError("invalid_request", description: "sessions cannot be ended right now", status: .badRequest)
        }
        auth.logger.info(
            "back-channel logout",
            metadata: [
                "by": "\(token.sessionID == nil ? "sub" : "sid")", "subject": "\(token.subject ?? "-")",
                "provider": "\(provider.id)", "sessions_ended": "\(ended)",
            ])
        AuthMetrics.backchannelLogout("succeeded")
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers)
    }

    /// The token and the provider it is valid for: each provider in turn validates it against
    /// its own issuer and keys (a token names its issuer, but only a signature proves it).
    /// When none accepts it, fails with the error of the first provider whose issuer it names
    /// (else the first provider's).
    private func validatedLogoutToken(_ rawToken: String) async -> Result<(LogoutToken, LoginProvider), OAuthError> {
        var errors: [OAuthError] = []
        for provider in auth.providers {
            do {
                return .success((try await provider.client.validateLogoutToken(rawToken), provider))
            } catch {
                errors.append(error)
            }
        }
        let named = errors.first { $0.code != .idTokenIssuerMismatch } ?? errors[0]
        return .failure(named)
    }

    /// `405` for any other method on the endpoint, with `Allow: POST`.
    static func backchannelLogoutMethodNotAllowed() -> Response {
        var response = JSONResponse.oauthError(
            "invalid_request", description: "use POST (OpenID Connect Back-Channel Logout 1.0 §2.5)",
            status: .methodNotAllowed)
        response.headers[.allow] = "POST"
        return response
    }

    /// Logs the reason code (never the token) and answers `400`.
    private func refuseLogout(_ reason: String, _ description: String) -> Response {
        auth.logger.notice("back-channel logout refused", metadata: ["reason": "\(reason)"])
        AuthMetrics.backchannelLogout("refused")
        return JSONResponse.oauthError("invalid_request", description: description, status: .badRequest)
    }

    /// Whether a `Content-Type` is `application/x-www-form-urlencoded` (parameters ignored).
    static func isFormEncoded(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/x-www-form-urlencoded"
    }
}
