import Foundation
import GatehouseOAuth

/// Rows written before schema 2 kept the identity as clear JSON (``SessionRow/legacyClaims``)
/// beside a sealed token set: anyone able to write to the database could change who such a
/// session belongs to. Their claims are therefore never believed as they stand.
///
/// What vouches for them is the ID token sealed with the tokens: the one the login (or the
/// last refresh) validated, authenticated since by AES-GCM under the row's id hash. A row is
/// served only when that token states every claim the row holds — issuer, subject and `sid`
/// always; email, `email_verified`, name, preferred username and groups whenever the row has
/// them — and its creation time is no later than the token's `iat` allows. Identities
/// completed from userinfo (thin ID tokens) and sessions without an ID token (GitHub) cannot be
/// vouched for: they are refused (the user signs in again) unless the operator re-seals them
/// with `gatehouse keys reencrypt --trust-legacy-claims`.
enum LegacyClaims {
    /// How much later than the ID token's `iat` a session may have been created: the login
    /// itself plus clock skew between the IdP and the gateway.
    static let creationSlack: Int64 = 5 * 60 * 1000

    /// The payload to seal for a legacy row whose claims its sealed ID token vouches for. The
    /// absolute deadline is the row's, never past creation plus `maxAge` (milliseconds).
    ///
    /// - Throws: ``StoreError/tampered`` when the claims name another subject or IdP session
    ///   than the row's columns; ``StoreError/legacyUnverified`` when the ID token is missing,
    ///   unreadable, or does not state a claim the row holds; ``StoreError/corrupt`` when the
    ///   claims are not valid JSON.
    static func verifiedPayload(row: SessionRow, tokens: TokenSet, maxAge: Int64) throws -> SessionPayload {
        let identity = try identity(of: row)
        guard let idToken = tokens.idToken else { throw unverified("no ID token is stored with it") }
        guard let claims = payload(ofJWT: idToken) else { throw unverified("its ID token cannot be read") }
        func states(_ name: String, _ value: String) -> Bool { claims[name]?.stringValue == value }
        guard states("iss", identity.issuer) else { throw differs("issuer") }
        guard states("sub", identity.subject) else { throw differs("subject") }
        guard claims["sid"]?.stringValue == identity.sessionID else { throw differs("sid") }
        if let email = identity.email, !states("email", email) || claims["email_verified"]?.boolValue == false {
            throw differs("email")
        }
        if let verified = identity.emailVerified, claims["email_verified"]?.boolValue != verified {
            throw differs("email_verified")
        }
        if let name = identity.name, !states("name", name) { throw differs("name") }
        if let username = identity.preferredUsername, !states("preferred_username", username) {
            throw differs("preferred_username")
        }
        if !identity.groups.isEmpty,
            (claims["groups"]?.stringArray ?? claims["groups_direct"]?.stringArray) != identity.groups
        {
            throw differs("groups")
        }
        guard let issuedAt = claims["iat"]?.numberValue, issuedAt.isFinite, abs(issuedAt) < 1e12 else {
            throw unverified("its ID token has no valid iat")
        }
        guard row.createdAt <= Int64(issuedAt * 1000) + creationSlack else {
            throw unverified("its created_at is later than its ID token allows")
        }
        let absolute = min(row.absoluteExpiresAt, row.createdAt &+ maxAge)
        return SessionPayload(
            identity: identity, provider: row.provider, createdAt: row.createdAt, absoluteExpiresAt: absolute)
    }

    /// The payload of a legacy row taken as it stands: for an operator who vouches that nobody
    /// else wrote to the database (`keys reencrypt --trust-legacy-claims`). The claims must
    /// still name the row's subject and IdP session.
    static func trustedPayload(row: SessionRow) throws -> SessionPayload {
        SessionPayload(
            identity: try identity(of: row), provider: row.provider, createdAt: row.createdAt,
            absoluteExpiresAt: row.absoluteExpiresAt)
    }

    /// The clear claims, which must agree with the row's lookup columns.
    private static func identity(of row: SessionRow) throws -> Identity {
        guard let claims = row.legacyClaims else { throw unverified("it holds no clear claims") }
        let identity: Identity
        do {
            identity = try JSONDecoder().decode(Identity.self, from: Data(claims))
        } catch {
            throw StoreError.corrupt.withDetail("stored claims are not valid")
        }
        guard identity.subject == row.subject else {
            throw StoreError.tampered.withDetail("the subject column does not match the claims")
        }
        guard identity.sessionID == row.idpSessionID else {
            throw StoreError.tampered.withDetail("the idp_session_id column does not match the claims")
        }
        return identity
    }

    /// The payload of a compact JWS, unverified: the sealing authenticates it (it is the token
    /// that was validated when stored).
    static func payload(ofJWT token: String) -> [String: JSONValue]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].utf8.count < 1 << 20 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        switch base64.utf8.count % 4 {
        case 2: base64 += "=="
        case 3: base64 += "="
        case 0: break
        default: return nil
        }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return try? JSONDecoder().decode([String: JSONValue].self, from: data)
    }

    private static func unverified(_ reason: String) -> StoreError {
        StoreError.legacyUnverified.withDetail("a session from before schema 2 cannot be verified: \(reason)")
    }

    private static func differs(_ claim: String) -> StoreError {
        unverified("its ID token does not state the same \(claim)")
    }
}
