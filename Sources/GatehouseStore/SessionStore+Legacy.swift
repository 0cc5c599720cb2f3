import GatehouseOAuth

/// Rows written before schema 2 (clear claims beside a sealed token set): served only when
/// their sealed ID token vouches for their claims (``LegacyClaims``), and then re-sealed in the
/// current form on that first read, so nobody whose claims can be checked is logged out by the
/// upgrade.
extension SessionStore {
    /// The payload and token set of a legacy row whose claims its ID token vouches for.
    ///
    /// - Throws: ``StoreError/keyMissing`` or ``StoreError/tampered`` from the key ring or the
    ///   column checks; ``StoreError/legacyUnverified`` when the claims cannot be vouched for;
    ///   ``StoreError/corrupt``.
    func openLegacy(_ row: SessionRow) throws -> (SessionPayload, TokenSet) {
        let tokenSet = try openLegacyTokens(row)
        let payload = try LegacyClaims.verifiedPayload(
            row: row, tokens: tokenSet, maxAge: configuration.maxAge.storeMilliseconds)
        return (payload, tokenSet)
    }

    /// The token set of a legacy row (sealed for the legacy purpose, bound to its id hash).
    func openLegacyTokens(_ row: SessionRow) throws -> TokenSet {
        let opened = try keyRing.open(row.sealed, purpose: .legacySessionTokens, boundTo: row.idHash)
        return try TokenSetFormat.decodeTokenSet(opened.plaintext)
    }

    /// A verified legacy row's session, after re-sealing the row in the current form
    /// (compare-and-swap on its version). A lost race or a failed write is logged and the
    /// session served all the same: it has been verified.
    func upgradeLegacy(_ row: SessionRow) async throws -> SessionWithTokenSet {
        let (payload, tokenSet) = try openLegacy(row)
        var stored = row
        do {
            let sealed = try seal(payload, tokens: tokenSet, for: row.idHash)
            if let written = try await driver.updateTokens(
                row.idHash, expectedVersion: row.version, sealed: sealed, absoluteExpiresAt: payload.absoluteExpiresAt)
            {
                stored = written
                logger.info(
                    "session from before schema 2 verified and re-sealed",
                    metadata: ["session": "\(row.idHash.shortDescription)"])
            }
        } catch {
            logger.warning(
                "could not re-seal a verified session from before schema 2; serving it as it is",
                metadata: ["session": "\(row.idHash.shortDescription)", "error": "\(Self.logCode(error))"])
        }
        return SessionWithTokenSet(
            session: Self.session(from: stored, payload: payload, tokens: SessionTokens(tokenSet)), tokenSet: tokenSet)
    }
}
