import Foundation
public import GatehouseOAuth
import Logging

extension SessionStore {
    /// Stores a login in flight under the hash of its `state`, for
    /// ``Configuration/pendingLifetime``. The PKCE verifier (with the redirect URI) is sealed,
    /// bound to the state hash; the browser-binding cookie value is kept only as a hash.
    public func savePending(
        _ pending: PendingAuthorization, bindingValue: String, returnPath: String, provider: String,
        conditions: LoginConditions = LoginConditions()
    ) async throws {
        let stateHash = SessionHash(of: pending.state)
        let secret = PendingSecret(
            codeVerifier: pending.codeVerifier, redirectURI: pending.redirectURI, conditions: conditions,
            dpopKey: pending.dpopKey
        ).encoded()
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
    /// number of concurrent callers exactly one gets it, and it cannot be used again. This
    /// form does not check a browser binding; callbacks use
    /// ``consumePending(state:bindingValue:)``.
    ///
    /// - Returns: `nil` when unknown, already used, expired, or unreadable (logged).
    public func consumePending(state: String) async throws -> StoredPending? {
        let stateHash = SessionHash(of: state)
        let now = clock.now.storeMilliseconds
        guard let row = try await driver.takePending(stateHash, now: now), row.expiresAt > now else { return nil }
        return opened(row, state: state)
    }

    /// Takes the pending authorization for a callback's `state` only when `bindingValue` (the
    /// browser-binding cookie) is the one it was saved with (DESIGN §1: check the binding, then
    /// consume). A wrong or missing binding consumes nothing, so a forged callback cannot use
    /// up another browser's login; of any number of concurrent callers with the right binding
    /// exactly one gets it.
    public func consumePending(state: String, bindingValue: String?) async throws -> PendingConsumption {
        let stateHash = SessionHash(of: state)
        // A missing cookie compares with a hash no binding value has.
        let bindingHash = bindingValue.map { SessionHash(of: $0) } ?? SessionHash(of: "")
        switch try await driver.takePending(stateHash, bindingHash: bindingHash, now: clock.now.storeMilliseconds) {
        case .taken(let row):
            return opened(row, state: state).map(PendingConsumption.consumed) ?? .unknown
        case .bindingMismatch:
            return .bindingMismatch
        case .none:
            return .unknown
        }
    }

    /// Deletes the pending authorization a browser holds the binding cookie of, named by the
    /// first bytes of its state hash (the cookie's name carries them): a browser with too many
    /// logins in flight gives up its oldest. Whether one was deleted.
    public func discardPending(stateHashPrefix: [UInt8], bindingValue: String) async throws -> Bool {
        try await driver.deletePending(stateHashPrefix: stateHashPrefix, bindingHash: SessionHash(of: bindingValue))
    }

    /// The number of pending authorizations (logins in flight) that have not expired, in
    /// every process sharing the store.
    public func pendingCount() async throws -> Int {
        try await driver.countPending(activeAt: clock.now.storeMilliseconds)
    }

    /// Deletes at most `batchSize` expired pending authorizations; how many.
    public func purgeExpiredPending(batchSize: Int = 1000) async throws -> Int {
        try await driver.purgeExpiredPending(now: clock.now.storeMilliseconds, limit: max(1, batchSize))
    }

    private func opened(_ row: PendingRow, state: String) -> StoredPending? {
        let secret: PendingSecret
        do {
            let opened = try keyRing.open(row.sealedVerifier, purpose: .pendingVerifier, boundTo: row.stateHash)
            secret = try PendingSecret(decoding: opened.plaintext)
        } catch {
            logger.error(
                "pending authorization cannot be read; the login fails",
                metadata: ["state": "\(row.stateHash.shortDescription)", "error": "\(Self.logCode(error))"])
            return nil
        }
        return StoredPending(
            pending: PendingAuthorization(
                state: state, nonce: row.nonce, codeVerifier: secret.codeVerifier, redirectURI: secret.redirectURI,
                createdAt: Date(storeMilliseconds: row.createdAt), dpopKey: secret.dpopKey),
            bindingHash: row.bindingHash, returnPath: row.returnPath, provider: row.provider,
            expiresAt: Date(storeMilliseconds: row.expiresAt), conditions: secret.conditions)
    }
}

/// The sealed part of a pending authorization. Format `03` (``CompactWriter``): the verifier,
/// the redirect URI, a flags byte (1 acr values, 2 max age, 4 subject, 8 silent, 16 DPoP key)
/// and those.
/// Format `02`: the verifier's length (one byte), the verifier, then the redirect URI (UTF-8);
/// before it JSON (`{"codeVerifier":…,"redirectURI":…}`). Both still read (no conditions).
struct PendingSecret: Codable, Equatable {
    var codeVerifier: String
    var redirectURI: String
    var conditions = LoginConditions()
    /// The login's DPoP key (RFC 9449 `dpop_jkt`), which redeems the code and binds the tokens.
    var dpopKey: DPoPKey?

    private static let compactFormat: UInt8 = 0x02
    private static let conditionsFormat: UInt8 = 0x03
    private static let hasACR: UInt8 = 1
    private static let hasMaxAge: UInt8 = 2
    private static let hasSubject: UInt8 = 4
    private static let isSilent: UInt8 = 8
    private static let hasDPoPKey: UInt8 = 16

    private enum CodingKeys: String, CodingKey { case codeVerifier, redirectURI }

    init(
        codeVerifier: String, redirectURI: String, conditions: LoginConditions = LoginConditions(), dpopKey: DPoPKey? = nil
    ) {
        self.codeVerifier = codeVerifier
        self.redirectURI = redirectURI
        self.conditions = conditions
        self.dpopKey = dpopKey
    }

    func encoded() -> [UInt8] {
        var writer = CompactWriter(capacity: 16 + codeVerifier.utf8.count + redirectURI.utf8.count)
        writer.byte(Self.conditionsFormat)
        writer.string(codeVerifier)
        writer.string(redirectURI)
        var flags: UInt8 = 0
        if !conditions.acrValues.isEmpty { flags |= Self.hasACR }
        if conditions.maxAge != nil { flags |= Self.hasMaxAge }
        if conditions.subject != nil { flags |= Self.hasSubject }
        if conditions.silent { flags |= Self.isSilent }
        if dpopKey != nil { flags |= Self.hasDPoPKey }
        writer.byte(flags)
        if !conditions.acrValues.isEmpty {
            writer.length(conditions.acrValues.count)
            for value in conditions.acrValues { writer.string(value) }
        }
        if let maxAge = conditions.maxAge { writer.int64(Int64(maxAge)) }
        if let subject = conditions.subject { writer.string(subject) }
        if let dpopKey { writer.data(dpopKey.rawRepresentation) }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws {
        if bytes.first == Self.conditionsFormat {
            var reader = CompactReader(bytes, offset: 1)
            let verifier = try reader.string()
            let redirectURI = try reader.string()
            let flags = try reader.byte()
            var conditions = LoginConditions(silent: flags & Self.isSilent != 0)
            if flags & Self.hasACR != 0 {
                for _ in 0..<(try reader.length()) { conditions.acrValues.append(try reader.string()) }
            }
            if flags & Self.hasMaxAge != 0 { conditions.maxAge = Int(try reader.int64()) }
            if flags & Self.hasSubject != 0 { conditions.subject = try reader.string() }
            var dpopKey: DPoPKey?
            if flags & Self.hasDPoPKey != 0 {
                do {
                    dpopKey = try DPoPKey(rawRepresentation: try reader.data())
                } catch {
                    throw StoreError.corrupt.withDetail("pending DPoP key is not valid")
                }
            }
            self.init(codeVerifier: verifier, redirectURI: redirectURI, conditions: conditions, dpopKey: dpopKey)
        } else if bytes.first == Self.compactFormat, bytes.count >= 2, bytes.count >= 2 + Int(bytes[1]) {
            let verifierEnd = 2 + Int(bytes[1])
            guard let verifier = String(validating: bytes[2..<verifierEnd], as: UTF8.self),
                let redirectURI = String(validating: bytes[verifierEnd...], as: UTF8.self)
            else { throw StoreError.corrupt.withDetail("pending authorization is not UTF-8") }
            self.init(codeVerifier: verifier, redirectURI: redirectURI)
        } else {
            self = try JSONDecoder().decode(PendingSecret.self, from: Data(bytes))
        }
    }
}
