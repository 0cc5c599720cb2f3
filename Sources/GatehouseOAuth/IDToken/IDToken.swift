/// An ID token whose signature and claims have been validated.
public struct IDToken: Sendable, Hashable {
    /// The compact JWS as received (for `id_token_hint` at logout).
    public let rawValue: String
    /// The header's `alg`.
    public let algorithm: String
    /// The header's `kid`, when present.
    public let keyID: String?
    public let claims: IDTokenClaims
}
