import Testing

/// Every behaviour of ``SessionStore`` over a driver; run against each backend
/// (`StoreConformanceTests`, `PostgresStoreConformanceTests`).
enum ConformanceCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case createLoadUpdate
    case compareAndSwapConflict
    case duplicateInsertIsConflict
    case slidingIdleExpiry
    case throttledTouch
    case absoluteExpiryCappedByRefreshToken
    case deleteOne
    case deleteBySubject
    case deleteByIdPSession
    case deleteOfOneProvider
    case deleteEverything
    case listAndCount
    case purgeInBatches
    case pendingSingleUse
    case pendingExpires
    case concurrentConsumeOneWinner
    case tamperedCiphertext
    case copiedCiphertext
    case wrongKeyRing
    case rotatedKeyRing
    case revocationAcrossInstancesWithinTTL
    case localRevocationImmediate
    case refreshAndIDTokensReadOnDemand
    case endReturnsTheTokenSet
    case tamperedLookupColumnsRefused
    case sealedSessionSwappedBetweenRows
    case sealedAbsoluteDeadlineEnforced
    case legacyRowVerifiedAndResealed
    case legacyRowWithUnverifiableClaimsRefused
    case reencryptSealsLegacyRowsAndSkipsTampered

    var testDescription: String { rawValue }

    func run(_ fixture: StoreFixture) async throws {
        switch self {
        case .createLoadUpdate: try await SessionCases.createLoadUpdate(fixture)
        case .compareAndSwapConflict: try await SessionCases.compareAndSwapConflict(fixture)
        case .duplicateInsertIsConflict: try await SessionCases.duplicateInsertIsConflict(fixture)
        case .slidingIdleExpiry: try await ExpiryCases.slidingIdleExpiry(fixture)
        case .throttledTouch: try await ExpiryCases.throttledTouch(fixture)
        case .absoluteExpiryCappedByRefreshToken: try await ExpiryCases.absoluteExpiryCappedByRefreshToken(fixture)
        case .deleteOne: try await DeleteCases.deleteOne(fixture)
        case .deleteBySubject: try await DeleteCases.deleteBySubject(fixture)
        case .deleteByIdPSession: try await DeleteCases.deleteByIdPSession(fixture)
        case .deleteOfOneProvider: try await DeleteCases.deleteOfOneProvider(fixture)
        case .deleteEverything: try await DeleteCases.deleteEverything(fixture)
        case .listAndCount: try await SessionCases.listAndCount(fixture)
        case .purgeInBatches: try await ExpiryCases.purgeInBatches(fixture)
        case .pendingSingleUse: try await PendingCases.singleUse(fixture)
        case .pendingExpires: try await PendingCases.expires(fixture)
        case .concurrentConsumeOneWinner: try await PendingCases.concurrentConsumeOneWinner(fixture)
        case .tamperedCiphertext: try await EncryptionCases.tamperedCiphertext(fixture)
        case .copiedCiphertext: try await EncryptionCases.copiedCiphertext(fixture)
        case .wrongKeyRing: try await EncryptionCases.wrongKeyRing(fixture)
        case .rotatedKeyRing: try await EncryptionCases.rotatedKeyRing(fixture)
        case .revocationAcrossInstancesWithinTTL: try await CacheCases.revocationAcrossInstancesWithinTTL(fixture)
        case .localRevocationImmediate: try await CacheCases.localRevocationImmediate(fixture)
        case .refreshAndIDTokensReadOnDemand: try await TokenCases.refreshAndIDTokensReadOnDemand(fixture)
        case .endReturnsTheTokenSet: try await TokenCases.endReturnsTheTokenSet(fixture)
        case .tamperedLookupColumnsRefused: try await SealedIdentityCases.tamperedLookupColumnsRefused(fixture)
        case .sealedSessionSwappedBetweenRows: try await SealedIdentityCases.sealedSessionSwappedBetweenRows(fixture)
        case .sealedAbsoluteDeadlineEnforced: try await SealedIdentityCases.sealedAbsoluteDeadlineEnforced(fixture)
        case .legacyRowVerifiedAndResealed: try await SealedIdentityCases.legacyRowVerifiedAndResealed(fixture)
        case .legacyRowWithUnverifiableClaimsRefused:
            try await SealedIdentityCases.legacyRowWithUnverifiableClaimsRefused(fixture)
        case .reencryptSealsLegacyRowsAndSkipsTampered:
            try await SealedIdentityCases.reencryptSealsLegacyRowsAndSkipsTampered(fixture)
        }
    }
}
