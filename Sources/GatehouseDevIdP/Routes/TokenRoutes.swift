import Crypto
import Foundation
import Hummingbird

/// The token endpoint (RFC 6749 §3.2): `authorization_code` with `redirect_uri` and PKCE
/// `code_verifier` checks, and `refresh_token` with rotation.
struct TokenRoutes: Sendable {
    let idp: IdentityProvider

    func register(on router: Router<IdPRequestContext>) {
        router.post("/token") { request, _ in try await token(request) }
    }

    func token(_ request: Request) async throws -> Response {
        let (form, client): (FormData, RegisteredClient)
        switch try await ClientAuthenticator.authenticatedForm(request, idp: idp) {
        case .accepted(let accepted, let authenticated): (form, client) = (accepted, authenticated)
        case .refused(let refusal): return refusal
        }
        let dpop: String?
        do {
            dpop = try await DPoPVerifier.verify(request, method: "POST", url: idp.issuer + "/token", idp: idp)
        } catch {
            return error.response(nonce: await idp.state.currentDPoPNonce(now: idp.now))
        }
        do {
            switch form["grant_type"] {
            case "authorization_code":
                return try await authorizationCode(form, client: client, dpop: dpop)
            case "refresh_token":
                return try await refresh(form, client: client, dpop: dpop)
            case nil:
                return Responses.oauthError("invalid_request", "grant_type is missing")
            default:
                return Responses.oauthError("unsupported_grant_type", "only authorization_code and refresh_token")
            }
        } catch let GrantFailure.invalidGrant(description) {
            idp.logger.info("token request refused", metadata: ["client": "\(client.id)", "reason": "\(description)"])
            return Responses.oauthError("invalid_grant", description)
        }
    }

    /// RFC 6749 §4.1.3 and RFC 7636 §4.6.
    private func authorizationCode(_ form: FormData, client: RegisteredClient, dpop: String?) async throws -> Response {
        guard let code = form["code"] else { return Responses.oauthError("invalid_request", "code is missing") }
        let now = idp.now
        let grant = try await idp.state.redeemCode(code, clientID: client.id, now: now)
        // §4.1.3: the same redirect_uri as in the authorization request.
        guard form["redirect_uri"] == grant.request.redirectURI else {
            throw GrantFailure.invalidGrant("redirect_uri does not match the authorization request")
        }
        guard let verifier = form["code_verifier"] else {
            throw GrantFailure.invalidGrant("code_verifier is missing (PKCE is required)")
        }
        guard Self.isValidVerifier(verifier),
            Hash.constantTimeEqual(Self.challenge(for: verifier), grant.request.codeChallenge)
        else {
            throw GrantFailure.invalidGrant("code_verifier does not match the code_challenge")
        }
        guard let user = idp.user(subject: grant.subject) else {
            throw GrantFailure.invalidGrant("the user no longer exists")
        }
        // RFC 9449 §10: a code bound with dpop_jkt is redeemed with a proof of that key only.
        if let bound = grant.request.dpopKeyThumbprint, bound != dpop {
            throw GrantFailure.invalidGrant("the code is bound to another DPoP key (dpop_jkt)")
        }
        let family = await idp.state.startFamily(
            code: code, grant: grant, lifetime: idp.configuration.refreshTokenLifetime, now: now, dpopKeyThumbprint: dpop)
        let issued = try await TokenIssuer(idp: idp).issue(family: family, client: client, user: user, nonce: grant.request.nonce)
        return Responses.json(encoding: issued)
    }

    /// RFC 6749 §6, with rotation: the old refresh token is spent. A `scope` parameter is
    /// ignored: the new tokens carry the grant's original scopes.
    private func refresh(_ form: FormData, client: RegisteredClient, dpop: String?) async throws -> Response {
        guard let token = form["refresh_token"] else {
            return Responses.oauthError("invalid_request", "refresh_token is missing")
        }
        let family = try await idp.state.useRefreshToken(
            token, clientID: client.id, dpopKeyThumbprint: dpop, now: idp.now)
        guard let user = idp.user(subject: family.subject) else {
            throw GrantFailure.invalidGrant("the user no longer exists")
        }
        let issued = try await TokenIssuer(idp: idp).issue(family: family, client: client, user: user, nonce: nil)
        return Responses.json(encoding: issued)
    }

    /// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
    static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.utf8.count)
            && verifier.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            }
    }

    /// RFC 7636 §4.2: `BASE64URL(SHA256(ASCII(code_verifier)))`.
    static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))
    }
}
