import GatehouseOAuth

extension GatewayConfiguration {
    /// The Entra ID tenant `GATEHOUSE_ISSUER` names (`https://login.microsoftonline.com/<tenant>/v2.0`),
    /// `common` without an issuer. Meaningful with `GATEHOUSE_PROVIDER=microsoft` only.
    var microsoftTenant: String {
        issuer.flatMap { issuer in issuer.split(separator: "/").dropFirst(2).first.map(String.init) } ?? "common"
    }

    /// Whether ``microsoftTenant`` lets users of any tenant sign in (`common`, `organizations`).
    var isMultiTenantMicrosoft: Bool {
        provider == "microsoft" && ["common", "organizations"].contains(microsoftTenant.lowercased())
    }

    /// The email rule in force: `GATEHOUSE_REQUIRE_EMAIL_VERIFIED`, else the provider's default
    /// (`always` for Microsoft, `if_present` for the others).
    var requiresVerifiedEmail: Bool {
        requireEmailVerified ?? (provider == "microsoft")
    }

    /// `GATEHOUSE_MICROSOFT_TENANTS` and `GATEHOUSE_REQUIRE_EMAIL_VERIFIED`, checked against the
    /// provider: a multi-tenant Microsoft issuer needs the tenant allow-list (nOAuth: another
    /// tenant's admin can give a user any address).
    mutating func loadIdentitySettings(_ values: ConfigValues) throws {
        let tenants = values.list("MICROSOFT_TENANTS")
        for tenant in tenants where !Self.isTenantID(tenant) {
            throw ConfigurationError(
                "GATEHOUSE_MICROSOFT_TENANTS", "\"\(tenant)\" is not a tenant id (a GUID, the tid claim of the tenant's tokens)")
        }
        microsoftTenants = tenants.map { $0.lowercased() }
        try checkMicrosoftTenants()
        if let rule = values.string("REQUIRE_EMAIL_VERIFIED")?.lowercased() {
            switch rule {
            case "always": requireEmailVerified = true
            case "if_present": requireEmailVerified = false
            default: throw ConfigurationError("GATEHOUSE_REQUIRE_EMAIL_VERIFIED", "must be always or if_present")
            }
        }
    }

    /// ``microsoftTenants`` against the provider and issuer (at loading, and again when the
    /// OAuth client is made from a configuration built in code).
    func checkMicrosoftTenants() throws {
        if !microsoftTenants.isEmpty, provider != "microsoft" {
            throw ConfigurationError("GATEHOUSE_MICROSOFT_TENANTS", "is only used with GATEHOUSE_PROVIDER=microsoft")
        }
        if isMultiTenantMicrosoft, microsoftTenants.isEmpty {
            throw ConfigurationError(
                "GATEHOUSE_MICROSOFT_TENANTS",
                "is required with GATEHOUSE_PROVIDER=microsoft and the multi-tenant issuer \(microsoftTenant): "
                    + "without it any Entra ID tenant can sign in, and its admins can give a user any email; "
                    + "list the tenant ids allowed, comma-separated")
        }
        let tenant = microsoftTenant.lowercased() == "consumers" ? Provider.microsoftConsumerTenant : microsoftTenant
        if provider == "microsoft", !isMultiTenantMicrosoft, !microsoftTenants.isEmpty,
            !microsoftTenants.contains(tenant.lowercased())
        {
            throw ConfigurationError(
                "GATEHOUSE_MICROSOFT_TENANTS",
                "does not list the tenant of GATEHOUSE_ISSUER (\(microsoftTenant); name it there by its tenant id)")
        }
    }

    /// A GUID, as Entra ID writes tenant ids: 8-4-4-4-12 hexadecimal digits.
    static func isTenantID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.utf8.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    /// The email rule of `provider`, as configured: its claim (`xms_edov` for Microsoft), and
    /// ``requiresVerifiedEmail``.
    func emailVerification(for provider: Provider) -> EmailVerification {
        var rule = provider.emailVerification
        rule.isRequired = requiresVerifiedEmail
        return rule
    }
}
