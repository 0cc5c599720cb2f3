import GatehouseOAuth

extension SessionStore {
    /// What ``reencryptAll(trustingLegacyClaims:)`` did.
    public struct ReencryptionReport: Sendable, Hashable {
        /// Sessions re-sealed with the primary key.
        public var resealed = 0
        /// Rows from before schema 2 (claims in clear) sealed in the current form: their ID
        /// token vouched for their claims, or the caller trusted them.
        public var upgraded = 0
        /// Rows left as they are, each logged: they do not open with this key ring, fail a
        /// check (tampered), or are from before schema 2 with claims nothing vouches for. The
        /// store does not serve them.
        public var skipped = 0

        public init(resealed: Int = 0, upgraded: Int = 0, skipped: Int = 0) {
            self.resealed = resealed
            self.upgraded = upgraded
            self.skipped = skipped
        }
    }

    /// Rewrites every session not sealed with the primary key, and every row from before
    /// schema 2, through compare-and-swap (a concurrent refresh wins and seals with the primary
    /// key itself).
    ///
    /// A row from before schema 2 is sealed in the current form when its sealed ID token vouches
    /// for its clear claims (as on its first read); with `trustingLegacyClaims`, also when it
    /// does not — the operator vouches that nobody else wrote to the database since those rows
    /// were written. Rows that cannot be opened or fail a check are logged and left alone.
    ///
    /// Pending authorizations are not rewritten: they live ``Configuration/pendingLifetime``,
    /// so drop an old key no sooner than that after this returns.
    public func reencryptAll(trustingLegacyClaims: Bool = false) async throws -> ReencryptionReport {
        var report = ReencryptionReport()
        for listed in try await driver.listSessions(limit: Int.max) {
            var row: SessionRow? = listed
            for _ in 0..<5 {
                guard let current = row else { break }
                let rewrite: (sealed: [UInt8], absolute: Int64)?
                do {
                    rewrite = try reencryption(of: current, trustingLegacyClaims: trustingLegacyClaims)
                } catch {
                    logger.error(
                        "session left as it is: it does not open or verify with this key ring",
                        metadata: [
                            "session": "\(current.idHash.shortDescription)", "error": "\(Self.logCode(error))",
                            "reason": "\((error as? StoreError)?.detail ?? "-")",
                        ])
                    report.skipped += 1
                    break
                }
                guard let rewrite else { break }
                let swapped = try await driver.updateTokens(
                    current.idHash, expectedVersion: current.version, sealed: rewrite.sealed,
                    absoluteExpiresAt: rewrite.absolute)
                cache.invalidate(current.idHash)
                if swapped != nil {
                    if current.legacyClaims == nil { report.resealed += 1 } else { report.upgraded += 1 }
                    break
                }
                row = try await driver.session(current.idHash)
            }
        }
        return report
    }

    /// The sealed column and absolute deadline to write for `row`, or `nil` when it is current
    /// and sealed with the primary key already.
    private func reencryption(of row: SessionRow, trustingLegacyClaims: Bool) throws -> (
        sealed: [UInt8], absolute: Int64
    )? {
        guard row.legacyClaims != nil else {
            guard KeyRing.keyID(ofSealed: row.sealed) != keyRing.primaryKeyID else { return nil }
            let (payload, tokenSet) = try openPayload(row)
            return (try seal(payload, tokens: tokenSet, for: row.idHash), payload.absoluteExpiresAt)
        }
        let payload: SessionPayload
        let tokenSet: TokenSet
        do {
            (payload, tokenSet) = try openLegacy(row)
        } catch let error as StoreError where error == .legacyUnverified && trustingLegacyClaims {
            tokenSet = try openLegacyTokens(row)
            payload = try LegacyClaims.trustedPayload(row: row)
        }
        return (try seal(payload, tokens: tokenSet, for: row.idHash), payload.absoluteExpiresAt)
    }
}
