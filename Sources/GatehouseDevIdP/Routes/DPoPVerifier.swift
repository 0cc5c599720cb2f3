import Crypto
import Foundation
import Hummingbird

/// DPoP proofs at the token endpoint (RFC 9449 §4.3), as a strict server checks them: one
/// `DPoP` header; `typ: dpop+jwt`, `alg: ES256` and a public P-256 `jwk` (no private part);
/// a valid signature by that key; `htm` and `htu` naming this request; `iat` within a minute of
/// now; a `jti` never seen before; and the server's current (or previous) nonce — without it
/// the answer is `use_dpop_nonce` with a fresh `DPoP-Nonce` (§8). The key's RFC 7638
/// thumbprint is what tokens are bound to (`cnf.jkt`).
enum DPoPVerifier {
    struct Failure: Error {
        var error: String
        var description: String

        /// `400` with the error, and the current nonce in `DPoP-Nonce` (a client retries with it).
        func response(nonce: String) -> Response {
            var extra = HTTPFields()
            if let name = HTTPFields.Element.Name("DPoP-Nonce") { extra[name] = nonce }
            return Responses.oauthError(error, description, extra: extra)
        }
    }

    /// The proof's key thumbprint, when `request` carries a valid proof for `method` `url`
    /// (and, at a resource, `accessToken`'s hash in `ath`); `nil` when it carries none.
    static func verify(
        _ request: Request, method: String, url: String, accessToken: String? = nil, idp: IdentityProvider
    ) async throws(Failure) -> String? {
        guard let name = HTTPFields.Element.Name("DPoP") else { return nil }
        let values = request.headers[values: name]
        guard !values.isEmpty else { return nil }
        guard values.count == 1 else { throw invalid("one DPoP header, not \(values.count)") }
        let parts = values[0].split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(String(parts[0])),
            let payloadBytes = Base64URL.decode(String(parts[1])), let signatureBytes = Base64URL.decode(String(parts[2])),
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any]
        else { throw invalid("the DPoP proof is not a compact JWS") }
        guard header["typ"] as? String == "dpop+jwt", header["alg"] as? String == "ES256" else {
            throw invalid("the DPoP proof must be typ dpop+jwt with alg ES256")
        }
        guard let jwk = header["jwk"] as? [String: Any], jwk["d"] == nil, jwk["kty"] as? String == "EC",
            jwk["crv"] as? String == "P-256", let x = (jwk["x"] as? String).flatMap(Base64URL.decode),
            let y = (jwk["y"] as? String).flatMap(Base64URL.decode), x.count == 32, y.count == 32,
            let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
        else { throw invalid("the DPoP proof's jwk must be a public P-256 key") }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
            key.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8))
        else { throw invalid("the DPoP proof's signature does not verify") }
        guard claims["htm"] as? String == method, (claims["htu"] as? String).map(stripped) == stripped(url) else {
            throw invalid("the DPoP proof's htm and htu must name this request")
        }
        let now = idp.now
        guard let iat = claims["iat"] as? Double, abs(now.timeIntervalSince1970 - iat) <= 60 else {
            throw invalid("the DPoP proof's iat must be within a minute of now")
        }
        guard let jti = claims["jti"] as? String, !jti.isEmpty, jti.utf8.count <= 256 else {
            throw invalid("the DPoP proof needs a jti")
        }
        if let accessToken {
            guard claims["ath"] as? String == Base64URL.encode(SHA256.hash(data: Array(accessToken.utf8))) else {
                throw invalid("the DPoP proof's ath must be the access token's hash")
            }
        }
        let thumbprint = Base64URL.encode(
            SHA256.hash(data: Array("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(Base64URL.encode(x))\",\"y\":\"\(Base64URL.encode(y))\"}".utf8)))
        guard await idp.state.acceptsDPoPNonce(claims["nonce"] as? String, now: now) else {
            throw Failure(error: "use_dpop_nonce", description: "use the nonce in the DPoP-Nonce header")
        }
        guard await idp.state.useDPoPProof(thumbprint + " " + jti, until: now + 120, now: now) else {
            throw invalid("this DPoP proof was used before")
        }
        return thumbprint
    }

    /// `url` without query and fragment.
    private static func stripped(_ url: String) -> String {
        String(url.prefix { $0 != "?" && $0 != "#" })
    }

    private static func invalid(_ description: String) -> Failure {
        Failure(error: "invalid_dpop_proof", description: description)
    }
}
