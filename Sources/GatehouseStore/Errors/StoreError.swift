/// The one error type of `GatehouseStore`.
///
/// A struct over a private code, so codes can be added without breaking callers. Compare with
/// the static members (`error == .tampered`): equality looks at the code only, never at
/// ``detail``. ``shortCode`` is stable and safe for logs and metric labels; neither it nor
/// ``detail`` ever contains a key, a token or a session id.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case keyMissing = "key_missing"
        case tampered
        case conflict
        case unavailable
        case timeout
        case invalidConfiguration = "invalid_configuration"
        case corrupt
        case legacyUnverified = "legacy_unverified"
    }

    private let code: Code
    /// A short explanation for people (no secrets), when there is more to say than the code.
    public let detail: String?

    private init(_ code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    /// A ciphertext names a key id that is not in the key ring (the key was dropped too early,
    /// or this instance runs with another `GATEHOUSE_ENCRYPTION_KEYS`).
    public static let keyMissing = StoreError(.keyMissing)
    /// A ciphertext failed authentication: modified, truncated, sealed for another record or
    /// another purpose, or sealed by a different key that happens to share the id.
    public static let tampered = StoreError(.tampered)
    /// A compare-and-swap lost: the row changed since it was read, or a row already exists.
    public static let conflict = StoreError(.conflict)
    /// The storage backend cannot be reached or refused the operation.
    public static let unavailable = StoreError(.unavailable)
    /// The storage backend did not answer in time.
    public static let timeout = StoreError(.timeout)
    /// The store cannot start with the configuration given (bad key, bad path, …).
    public static let invalidConfiguration = StoreError(.invalidConfiguration)
    /// A stored row cannot be decoded (not a tampered ciphertext: the plain columns).
    public static let corrupt = StoreError(.corrupt)
    /// A session row written before schema 2 (claims in clear) whose claims its sealed ID token
    /// does not vouch for (none stored, or a claim it does not state): it is not served.
    /// `gatehouse keys reencrypt --trust-legacy-claims` re-seals such rows as they are.
    public static let legacyUnverified = StoreError(.legacyUnverified)

    /// The same error with an explanation attached.
    public func withDetail(_ detail: String) -> StoreError {
        StoreError(code, detail: detail)
    }

    /// The stable code: `key_missing`, `tampered`, `conflict`, `unavailable`, `timeout`,
    /// `invalid_configuration`, `corrupt` or `legacy_unverified`.
    public var shortCode: String { code.rawValue }

    public var description: String {
        guard let detail else { return shortCode }
        return "\(shortCode): \(detail)"
    }

    /// Equal when the codes are equal; the detail is ignored.
    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
