public import Foundation

/// The claims of an ID token (OpenID Connect Core §2), every one kept.
public struct IDTokenClaims: Sendable, Hashable {
    public var issuer: String
    public var subject: String
    public var audiences: [String]
    public var expiresAt: Date
    public var issuedAt: Date
    public var notBefore: Date?
    public var authTime: Date?
    public var nonce: String?
    public var authorizedParty: String?
    public var accessTokenHash: String?
    /// The IdP's session id (OpenID Connect Back-Channel Logout §2.1 / Front-Channel §3).
    public var sessionID: String?
    /// Every claim, including the ones above, by name.
    public var all: [String: JSONValue]

    public var email: String? { all["email"]?.stringValue }
    public var emailVerified: Bool? { all["email_verified"]?.boolValue }
    public var name: String? { all["name"]?.stringValue }
    public var preferredUsername: String? { all["preferred_username"]?.stringValue }
    /// `groups`, as most IdPs name it (GitLab: `groups_direct`).
    public var groups: [String]? { all["groups"]?.stringArray ?? all["groups_direct"]?.stringArray }
    /// Microsoft Entra ID's tenant id.
    public var tenantID: String? { all["tid"]?.stringValue }

    /// Decodes a payload, checking the type of every registered claim.
    init(payload: [UInt8]) throws(OAuthError) {
        let all: [String: JSONValue]
        if let plain = PlainJSON.object(payload) {
            // The common case, decoded exactly as JSONDecoder would but without its cost.
            all = plain
        } else {
            do {
                all = try JSONDecoder().decode([String: JSONValue].self, from: Data(payload))
            } catch {
                throw OAuthError(.idTokenMalformed, "the ID token's payload is not a JSON object")
            }
        }
        func string(_ name: String, required: Bool) throws(OAuthError) -> String? {
            switch all[name] {
            case .string(let value)?: return value
            case nil where !required: return nil
            case nil: throw OAuthError(.idTokenMalformed, "the ID token has no \(name) claim")
            default: throw OAuthError(.idTokenMalformed, "the ID token's \(name) claim is not a string")
            }
        }
        func date(_ name: String, required: Bool) throws(OAuthError) -> Date? {
            switch all[name] {
            case .number(let value)? where value.isFinite: return Date(timeIntervalSince1970: value)
            case nil where !required: return nil
            case nil: throw OAuthError(.idTokenMalformed, "the ID token has no \(name) claim")
            default: throw OAuthError(.idTokenMalformed, "the ID token's \(name) claim is not a number")
            }
        }
        // Required claims: §2 (a missing iss or aud makes the later comparisons fail closed).
        self.issuer = try string("iss", required: true) ?? ""
        self.subject = try string("sub", required: false) ?? ""
        switch all["aud"] {
        case .string(let value)?: self.audiences = [value]
        case .array(let values)?:
            let strings = values.compactMap(\.stringValue)
            guard strings.count == values.count else {
                throw OAuthError(.idTokenMalformed, "the ID token's aud claim holds a non-string")
            }
            self.audiences = strings
        default:
            throw OAuthError(.idTokenMalformed, "the ID token's aud claim is missing or not a string or array")
        }
        self.expiresAt = try date("exp", required: true) ?? .distantPast
        self.issuedAt = try date("iat", required: true) ?? .distantFuture
        self.notBefore = try date("nbf", required: false)
        self.authTime = try date("auth_time", required: false)
        self.nonce = try string("nonce", required: false)
        self.authorizedParty = try string("azp", required: false)
        self.accessTokenHash = try string("at_hash", required: false)
        self.sessionID = try string("sid", required: false)
        self.all = all
    }
}
