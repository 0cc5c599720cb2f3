/// When a provider's `email` claim enters the ``Identity``: which boolean claim vouches for it
/// and whether that claim must be present.
///
/// OpenID Connect Core §5.1 defines `email_verified`, but many IdPs leave it out. A provider
/// whose users all belong to one organisation can be trusted without it (`ifPresent`, what
/// oauth2-proxy does); a multi-tenant provider cannot: the admin of any tenant can give a user
/// any address (the "nOAuth" attack on Microsoft Entra ID), so there only a positive claim
/// counts (`always`).
public struct EmailVerification: Sendable, Hashable, CustomStringConvertible {
    /// The boolean claim that says the email is verified. Default `email_verified`; Microsoft
    /// Entra ID: `xms_edov` (the email's domain owner is verified).
    public var claim: String
    /// `true`: an email is kept only when ``claim`` is `true`. `false`: only a ``claim`` of
    /// `false` leaves it out; an email without the claim counts as verified.
    public var isRequired: Bool

    public init(claim: String = "email_verified", isRequired: Bool) {
        self.claim = claim
        self.isRequired = isRequired
    }

    /// Only an email with `email_verified: true`.
    public static let always = EmailVerification(isRequired: true)

    /// An email unless `email_verified` is `false` (oauth2-proxy's rule; the default for an
    /// issuer serving one organisation).
    public static let ifPresent = EmailVerification(isRequired: false)

    /// Only an email with `claim` set to `true`.
    public static func always(claim: String) -> EmailVerification {
        EmailVerification(claim: claim, isRequired: true)
    }

    /// What `claims` say about their email: the value of ``claim`` (a JSON boolean, or the
    /// strings `"true"`/`"false"` some IdPs send), `nil` when absent.
    func verdict(_ claims: [String: JSONValue]) -> Bool? {
        claims[claim]?.boolValue
    }

    /// Whether an email with this verdict may be used.
    func accepts(_ verdict: Bool?) -> Bool {
        isRequired ? verdict == true : verdict != false
    }

    /// `always (xms_edov)`, `if_present (email_verified)`: the setting's words and the claim.
    public var description: String {
        "\(isRequired ? "always" : "if_present") (\(claim))"
    }
}
