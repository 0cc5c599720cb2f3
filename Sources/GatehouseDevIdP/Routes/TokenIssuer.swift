import Foundation

/// Mints the tokens of a grant: an access token (a JWT per RFC 9068, `typ: at+jwt`), a
/// refresh token (opaque, rotated on every use) and an ID token (OIDC Core §2).
struct TokenIssuer: Sendable {
    let idp: IdentityProvider

    /// The token response fields (RFC 6749 §5.1).
    struct Issued: Encodable, Sendable {
        var accessToken: String
        var tokenType = "Bearer"
        var expiresIn: Int
        var refreshToken: String
        var idToken: String
        var scope: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
            case refreshToken = "refresh_token", idToken = "id_token", scope
        }
    }

    /// Issues and records tokens for `family`; `nonce` only on the code exchange (OIDC Core
    /// §12.2: a refreshed ID token has none).
    func issue(family: TokenFamily, client: RegisteredClient, user: TestUser, nonce: String?) async throws -> Issued {
        let configuration = idp.configuration
        let now = idp.now
        let issuedAt = Int(now.timeIntervalSince1970)
        let authTime = Int(family.authTime.timeIntervalSince1970)
        let scopes = Set(family.scopes)

        var access = TokenClaims(
            issuer: idp.issuer, subject: user.subject, audience: client.id, issuedAt: issuedAt,
            lifetime: configuration.accessTokenLifetime)
        access.clientID = client.id
        access.scope = family.scopes.joined(separator: " ")
        access.tokenID = Random.token()
        access.sessionID = family.sessionID
        access.authTime = authTime
        access.cnf = family.dpopKeyThumbprint.map { ["jkt": $0] }
        access.addUserClaims(user, scopes: scopes)
        let accessToken = try await idp.keys.sign(access, algorithm: .rs256, type: "at+jwt")

        var id = TokenClaims(
            issuer: idp.issuer, subject: user.subject, audience: client.id, issuedAt: issuedAt,
            lifetime: configuration.idTokenLifetime)
        id.authTime = authTime
        id.acr = family.acr
        id.nonce = nonce
        id.accessTokenHash = Hash.leftHalfSHA256(accessToken)
        id.sessionID = family.sessionID
        id.addUserClaims(user, scopes: scopes)
        let idToken = try await idp.keys.sign(id, algorithm: client.idTokenAlgorithm)

        let refreshToken = Random.token()
        await idp.state.recordTokens(
            familyID: family.id, accessToken: accessToken,
            accessExpiresAt: now + configuration.accessTokenLifetime.timeInterval, refreshToken: refreshToken,
            refreshExpiresAt: now + configuration.refreshTokenLifetime.timeInterval)
        return Issued(
            accessToken: accessToken, tokenType: family.dpopKeyThumbprint == nil ? "Bearer" : "DPoP", expiresIn: Int(configuration.accessTokenLifetime.components.seconds),
            refreshToken: refreshToken, idToken: idToken, scope: family.scopes.joined(separator: " "))
    }
}
