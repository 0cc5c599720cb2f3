import Foundation
public import GatehouseOAuth
import Logging

extension SessionStore {
    /// The sealed part of a pending authorization.
    private struct PendingSecret: Codable {
        var codeVerifier: String
        var redirectURI: String
    }

    /// Stores a login in flight under the hash of its `state`, for
    /// ``Configuration/pendingLifetime``. The PKCE verifier (with the redirect URI) is sealed,
    /// bound to the state hash; the browser-binding cookie value is kept only as a hash.
    public func savePending(
        _ pending: PendingAuthorization, bindingValue: String, returnPath: String, provider: String
    ) async throws {
        let stateHash = SessionHash(of: pending.state)
        let secret: [UInt8]
        do {
            secret = Array(
                try JSONEncoder().encode(
                    PendingSecret(codeVerifier: pending.codeVerifier, redirectURI: pending.redirectURI)))
        } catch {
            throw StoreError.corrupt.withDetail("pending authorization cannot be encoded")
        }
        let now = clock.now.storeMilliseconds
        try await driver.insertPending(
            PendingRow(
                stateHash: stateHash, bindingHash: SessionHash(of: bindingValue), nonce: pending.nonce,
                sealedVerifier: try keyRing.seal(secret, purpose: .pendingVerifier, boundTo: stateHash),
                returnPath: returnPath, provider: provider,
                createdAt: pending.createdAt.storeMilliseconds,
                expiresAt: now + configuration.pendingLifetime.storeMilliseconds))
    }

    /// Takes the pending authorization for a callback's `state` out of the store: of any
    /// number of concurrent callers exactly one gets it, and it cannot be used again.
    ///
    /// - Returns: `nil` when unknown, already used, expired, or unreadable (logged).
    public func consumePending(state: String) async throws -> StoredPending? {
        let stateHash = SessionHash(of: state)
        let now = clock.now.storeMilliseconds
        guard let row = try await driver.takePending(stateHash, now: now), row.expiresAt > now else { return nil }
        let secret: PendingSecret
        do {
            let opened = try keyRing.open(row.sealedVerifier, purpose: .pendingVerifier, boundTo: stateHash)
            secret = try JSONDecoder().decode(PendingSecret.self, from: Data(opened.plaintext))
        } catch {
            logger.error(
                "pending authorization cannot be read; the login fails",
                metadata: ["state": "\(stateHash.shortDescription)", "error": "\(Self.logCode(error))"])
            return nil
        }
        return StoredPending(
            pending: PendingAuthorization(
                state: state, nonce: row.nonce, codeVerifier: secret.codeVerifier, redirectURI: secret.redirectURI,
                createdAt: Date(storeMilliseconds: row.createdAt)),
            bindingHash: row.bindingHash, returnPath: row.returnPath, provider: row.provider,
            expiresAt: Date(storeMilliseconds: row.expiresAt))
    }
}
