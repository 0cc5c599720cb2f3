/// How a provider's issuer identifier is compared: exactly, as OpenID Connect requires, or —
/// for Microsoft Entra ID's multi-tenant endpoints — as a template naming the token's tenant.
public struct IssuerPolicy: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// The issuer must equal one of these strings exactly (OIDC Discovery §4.3).
        case exact(Set<String>)
        /// Discovery publishes `template` (containing `{tenantid}`); each ID token's `iss` must
        /// equal the template with its own `tid` claim substituted, and `tid` must be allowed.
        case tenantTemplate(template: String, allowedTenants: Set<String>?)
    }

    let kind: Kind

    /// The issuer must match `issuer` exactly.
    public static func exact(_ issuer: String) -> IssuerPolicy {
        IssuerPolicy(kind: .exact([issuer]))
    }

    /// Any of `issuers` exactly (Google's ID tokens use `accounts.google.com` with or without
    /// the scheme).
    public static func oneOf(_ issuers: Set<String>) -> IssuerPolicy {
        IssuerPolicy(kind: .exact(issuers))
    }

    /// A Microsoft-style issuer template, `https://login.microsoftonline.com/{tenantid}/v2.0`.
    /// `allowedTenants` (compared without regard to case) restricts which tenants may sign in;
    /// `nil` allows any, which a multi-tenant IdP's users can abuse (see
    /// ``Provider/microsoft(tenant:allowedTenants:)``).
    public static func tenantTemplate(_ template: String, allowedTenants: Set<String>?) -> IssuerPolicy {
        IssuerPolicy(
            kind: .tenantTemplate(template: template, allowedTenants: allowedTenants.map { Set($0.map { $0.lowercased() }) }))
    }

    static let tenantPlaceholder = "{tenantid}"

    /// Whether discovery's `issuer` is the one this policy expects (before any token is seen).
    func acceptsDiscovered(_ issuer: String) -> Bool {
        switch kind {
        case .exact(let issuers): issuers.contains(issuer)
        case .tenantTemplate(let template, _): issuer == template
        }
    }

    /// Whether an RFC 9207 `iss` authorization response parameter names this provider: the
    /// discovered issuer exactly, or for a tenant template, the template with one tenant.
    func acceptsAuthorizationResponse(issuer: String, discovered: String) -> Bool {
        switch kind {
        case .exact:
            return issuer == discovered
        case .tenantTemplate(let template, let allowedTenants):
            let parts = template.components(separatedBy: Self.tenantPlaceholder)
            guard parts.count == 2, issuer.hasPrefix(parts[0]), issuer.hasSuffix(parts[1]),
                issuer.utf8.count > parts[0].utf8.count + parts[1].utf8.count
            else { return false }
            let tenant = issuer.dropFirst(parts[0].count).dropLast(parts[1].count)
            guard !tenant.contains("/") else { return false }
            return allowedTenants?.contains(tenant.lowercased()) ?? true
        }
    }

    /// Checks an ID token's (or RFC 9207 `iss` parameter's) issuer against this policy.
    /// `tenant` is the token's `tid` claim, required for a template.
    func check(issuer: String, tenant: String?) throws(OAuthError) {
        switch kind {
        case .exact(let issuers):
            guard issuers.contains(issuer) else {
                throw OAuthError(.idTokenIssuerMismatch, "the ID token's iss is not the expected issuer")
            }
        case .tenantTemplate(let template, let allowedTenants):
            guard let tenant, !tenant.isEmpty, !tenant.contains("/") else {
                throw OAuthError(.idTokenTenantMismatch, "the ID token has no usable tid claim")
            }
            if let allowedTenants, !allowedTenants.contains(tenant.lowercased()) {
                throw OAuthError(.idTokenTenantMismatch, "the ID token's tenant is not allowed")
            }
            guard issuer == template.replacingOccurrences(of: Self.tenantPlaceholder, with: tenant) else {
                throw OAuthError(.idTokenIssuerMismatch, "the ID token's iss does not match its tenant")
            }
        }
    }
}

import Foundation
