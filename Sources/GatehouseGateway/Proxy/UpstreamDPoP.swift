import Foundation
import GatehouseOAuth
import GatehouseStore
import NIOHTTP1

/// DPoP-bound tokens relayed to upstreams (RFC 9449 §7): a fresh proof of the session's key for
/// each request — `htm`, `htu` (the upstream URL without query), `ath` (the token's hash) and
/// the upstream's latest nonce (§9, ``DPoPResourceNonces``, shared by every request). The key
/// never leaves the gateway.
final class UpstreamDPoP: Sendable {
    /// The upstreams' nonces, by origin.
    let nonces = DPoPResourceNonces()

    init() {}

    /// The key and the access token of a session whose token is relayed and bound, else `nil`.
    static func binding(of principal: ProxyPrincipal, relaysToken: Bool) -> (key: DPoPKey, accessToken: String)? {
        guard relaysToken, case .session(let session) = principal, let key = session.tokens.dpopKey else { return nil }
        return (key, session.tokens.accessToken)
    }

    /// Adds the `DPoP` proof for `method` `url` (the `Authorization: DPoP` field is
    /// ``ProxyHeaders``'); `false` when it cannot be signed (then nothing may be sent).
    func addProof(
        to headers: inout HTTPHeaders, binding: (key: DPoPKey, accessToken: String), method: String, url: String,
        now: Date = Date()
    ) -> Bool {
        guard
            let proof = try? binding.key.proof(
                method: method, url: url, accessToken: binding.accessToken, nonce: nonces.nonce(for: url), now: now)
        else { return false }
        headers.replaceOrAdd(name: "DPoP", value: proof)
        return true
    }
}
