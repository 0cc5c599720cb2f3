public import AsyncHTTPClient
import Foundation
import NIOCore

extension OAuthClient {
    /// Calls a resource server with a DPoP-bound access token (RFC 9449 §7): the token as
    /// `Authorization: DPoP`, a fresh proof of `key` for this method and URL with `ath` (the
    /// token's hash) and the server's last nonce, and — when the server answers `401` with
    /// `use_dpop_nonce` and a `DPoP-Nonce` — one more try with that nonce.
    ///
    /// A body passed as `body` is sent again on that try. A body set on `request` itself is
    /// not (it may be a stream that cannot be sent twice): such a request gets the `401`, and
    /// the nonce it taught serves the next request.
    ///
    /// Nonces are kept per origin (a resource server's are its own, §9).
    public func dpopRequest(
        _ request: HTTPClientRequest, body: [UInt8]? = nil, accessToken: String, key: DPoPKey,
        timeout: Duration = .seconds(30)
    ) async throws -> HTTPClientResponse {
        let replayable = request.body == nil
        var retried = false
        while true {
            var attempt = request
            if let body { attempt.body = .bytes(body) }
            attempt.headers.replaceOrAdd(name: "Authorization", value: "DPoP " + accessToken)
            attempt.headers.replaceOrAdd(
                name: "DPoP",
                value: try dpopProof(
                    key, method: request.method.rawValue, url: request.url, accessToken: accessToken,
                    nonce: resourceNonces.nonce(for: request.url)))
            let response = try await transport.client.execute(attempt, timeout: TimeAmount(timeout))
            let asksAgain = resourceNonces.learn(status: Int(response.status.code), headers: response.headers, url: request.url)
            if asksAgain, !retried, replayable {
                retried = true
                // Read and drop the refusal's body so the connection can be reused.
                _ = try? await response.body.collect(upTo: 64 * 1024)
                continue
            }
            return response
        }
    }
}

extension OAuthClient {
    /// A `GET` of one of the provider's resources (userinfo) with an access token: as a bearer,
    /// or DPoP-bound with a proof of `dpop` carrying `ath`, tried once more with the
    /// resource's nonce when it answers `401` with `use_dpop_nonce` (RFC 9449 §7, §9).
    func resourceGET(
        _ url: String, accessToken: String, dpop: DPoPKey?, name: String
    ) async throws(OAuthError) -> IdPResponse {
        guard let dpop else {
            return try await transport.send(.GET, url, headers: [("Authorization", "Bearer " + accessToken)], endpoint: name)
        }
        var retried = false
        while true {
            let proof = try dpopProof(dpop, method: "GET", url: url, accessToken: accessToken, nonce: resourceNonces.nonce(for: url))
            let response = try await transport.send(
                .GET, url, headers: [("Authorization", "DPoP " + accessToken), ("DPoP", proof)], endpoint: name)
            if resourceNonces.learn(status: response.status, headers: response.headers, url: url), !retried {
                retried = true
                continue
            }
            return response
        }
    }
}
