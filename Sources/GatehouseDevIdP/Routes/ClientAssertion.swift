import Foundation
import Hummingbird
import JWTKit

/// `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9): a
/// JWT signed with the key registered for the client (``RegisteredClient/assertionKeyPEM``),
/// `iss` and `sub` the client id, `aud` this issuer or its token endpoint, not expired, valid
/// for at most five minutes, and a `jti` never seen before.
enum ClientAssertion {
    static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// The longest `exp - now` accepted: a long-lived assertion is a replayable credential.
    static let maximumLifetime: TimeInterval = 300

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var jti: IDClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    typealias Failure = ClientAuthenticator.Failure

    static func authenticate(_ request: Request, form: FormData, idp: IdentityProvider) async throws(Failure)
        -> RegisteredClient
    {
        guard form["client_assertion_type"] == assertionType, let assertion = form["client_assertion"] else {
            throw Failure(error: "invalid_client", description: "client_assertion_type must be \(assertionType)")
        }
        guard request.headers[.authorization] == nil, form["client_secret"] == nil else {
            throw Failure(error: "invalid_request", description: "use one client authentication method, not two")
        }
        // The client is named by `client_id` when sent, else by the (still unverified) `iss`;
        // either way `iss` and `sub` must be it once the signature holds.
        guard let id = form["client_id"] ?? unverifiedIssuer(assertion), let client = idp.client(id),
            client.assertionKeyPEM != nil
        else {
            throw Failure(error: "invalid_client", description: "unknown client, or not registered for private_key_jwt")
        }
        guard let keys = await client.verificationKeys(for: assertion) else {
            throw Failure(error: "invalid_client", description: "the client's registered key cannot be read")
        }
        let claims: Claims
        do {
            claims = try await keys.verify(assertion, as: Claims.self)
        } catch {
            throw Failure(error: "invalid_client", description: "the client assertion's signature does not verify")
        }
        let now = idp.now
        guard claims.iss.value == client.id, claims.sub.value == client.id else {
            throw Failure(error: "invalid_client", description: "the client assertion's iss and sub must be the client id")
        }
        guard claims.aud.value.contains(where: { $0 == idp.issuer || $0 == idp.issuer + "/token" }) else {
            throw Failure(error: "invalid_client", description: "the client assertion's aud must name this issuer")
        }
        let expiresAt = claims.exp.value
        guard expiresAt > now, expiresAt.timeIntervalSince(now) <= maximumLifetime else {
            throw Failure(error: "invalid_client", description: "the client assertion is expired or lives too long")
        }
        guard let jti = claims.jti?.value, !jti.isEmpty,
            await idp.state.useAssertion(clientID: client.id, jti: jti, expiresAt: expiresAt, now: now)
        else {
            throw Failure(error: "invalid_client", description: "the client assertion has no jti or was used before")
        }
        return client
    }

    /// The `iss` of a JWT's payload, without verifying anything.
    private static func unverifiedIssuer(_ jwt: String) -> String? {
        guard case .string(let issuer)? = Whoami.claims(ofJWT: jwt)?["iss"] else { return nil }
        return issuer
    }
}
