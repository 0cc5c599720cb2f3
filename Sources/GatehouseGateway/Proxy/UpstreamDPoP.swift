import Foundation
import GatehouseOAuth
import GatehouseStore
import NIOHTTP1
import Synchronization

/// DPoP-bound tokens relayed to upstreams (RFC 9449 §7): a fresh proof of the session's key for
/// each request — `htm`, `htu` (the upstream URL without query), `ath` (the token's hash) and
/// the upstream's latest nonce (§9), learned from any `DPoP-Nonce` it answers with, kept per
/// upstream origin and shared by every request. The key never leaves the gateway.
final class UpstreamDPoP: Sendable {
    private let nonces = Mutex<[String: String]>([:])

    init() {}

    /// The key of a session whose token is relayed and bound, else `nil`.
    static func key(of principal: ProxyPrincipal, relaysToken: Bool) -> DPoPKey? {
        guard relaysToken, case .session(let session) = principal else { return nil }
        return session.tokens.dpopKey
    }

    /// Adds the `DPoP` proof for `method` `url` (the `Authorization: DPoP` field is
    /// ``ProxyHeaders``'); `false` when it cannot be signed (then nothing may be sent).
    func addProof(
        to headers: inout HTTPHeaders, key: DPoPKey, accessToken: String, method: String, url: String, now: Date = Date()
    ) -> Bool {
        let origin = EndpointURL.origin(of: url) ?? url
        let nonce = nonces.withLock { $0[origin] }
        guard let proof = try? key.proof(method: method, url: url, accessToken: accessToken, nonce: nonce, now: now) else {
            return false
        }
        headers.replaceOrAdd(name: "DPoP", value: proof)
        return true
    }

    /// Remembers the upstream's nonce from a response to `url`; whether the response asks for
    /// the request again with it (`401` with `use_dpop_nonce`).
    func learnNonce(status: Int, headers: HTTPHeaders, url: String) -> Bool {
        guard let nonce = headers.first(name: "dpop-nonce"), !nonce.isEmpty, nonce.utf8.count <= 1024 else { return false }
        let origin = EndpointURL.origin(of: url) ?? url
        nonces.withLock { $0[origin] = nonce }
        return status == 401 && headers[canonicalForm: "www-authenticate"].contains { $0.contains("use_dpop_nonce") }
    }
}
