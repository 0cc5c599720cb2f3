import Foundation
import JWTKit

/// Signed authorization requests (RFC 9101, JAR): a `request` parameter holding the request as
/// a JWT signed with the client's registered key (``RegisteredClient/assertionKeyPEM``). Only
/// the parameters inside count (§6.3); `iss` must be the client, `aud` this issuer, and it may
/// live at most five minutes.
enum RequestObject {
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// Why a request object is refused (shown to the user or returned to the client).
    struct Refusal: Error {
        var message: String
    }

    /// The request's parameters, with `client_id`; or why the object is refused.
    static func open(_ jwt: String, clientID: String?, idp: IdentityProvider) async -> Result<FormData, Refusal> {
        guard let clientID, let client = idp.client(clientID) else {
            return .failure(Refusal(message: "a request object needs the client_id of a registered client beside it"))
        }
        guard let keys = await client.verificationKeys(for: jwt) else {
            return .failure(Refusal(message: "this client has no registered key to sign request objects with"))
        }
        let claims: Claims
        do {
            claims = try await keys.verify(jwt, as: Claims.self)
        } catch {
            return .failure(Refusal(message: "the request object's signature does not verify"))
        }
        let now = idp.now
        guard claims.iss.value == client.id, claims.aud.value.contains(idp.issuer) else {
            return .failure(Refusal(message: "the request object's iss must be the client and its aud this issuer"))
        }
        guard claims.exp.value > now, claims.exp.value.timeIntervalSince(now) <= ClientAssertion.maximumLifetime else {
            return .failure(Refusal(message: "the request object is expired or lives too long"))
        }
        // The signature holds: the payload is the client's.
        guard let payload = Whoami.claims(ofJWT: jwt) else { return .failure(Refusal(message: "the request object cannot be read")) }
        if case .string(let inner)? = payload["client_id"], inner != client.id {
            return .failure(Refusal(message: "the request object names another client_id"))
        }
        var values: [String: String] = ["client_id": client.id]
        for (name, value) in payload where !["iss", "aud", "iat", "nbf", "exp", "jti", "request", "request_uri"].contains(name) {
            guard case .string(let text) = value else { return .failure(Refusal(message: "the request object's \(name) is not a string")) }
            values[name] = text
        }
        return .success(FormData(values))
    }
}

extension RegisteredClient {
    /// The client's registered public key (RSA or P-256) as a key collection for `jwt`'s
    /// algorithm — an RSA key verifies RS256, or PS256 when the JWT's header says so (FAPI 2.0
    /// clients) — or `nil`.
    func verificationKeys(for jwt: String) async -> JWTKeyCollection? {
        guard let pem = assertionKeyPEM else { return nil }
        let keys = JWTKeyCollection()
        if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
            if Self.headerAlgorithm(of: jwt) == "PS256" {
                await keys.add(pss: rsa, digestAlgorithm: .sha256)
            } else {
                await keys.add(rsa: rsa, digestAlgorithm: .sha256)
            }
        } else if let ec = try? ES256PublicKey(pem: pem) {
            await keys.add(ecdsa: ec)
        } else {
            return nil
        }
        return keys
    }

    /// The `alg` of a compact JWS's (unverified) header.
    static func headerAlgorithm(of jwt: String) -> String? {
        guard let header = jwt.split(separator: ".").first, let bytes = Base64URL.decode(header),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }
}
