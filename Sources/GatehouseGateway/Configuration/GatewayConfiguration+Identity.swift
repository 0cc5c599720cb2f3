import GatehouseHummingbird

extension GatewayConfiguration {
    /// The providers users sign in with: the file's `providers:`, else the shorthand.
    public var loginProviders: [ProviderSettings] {
        providers.isEmpty ? [shorthandProvider] : providers
    }

    /// How the chooser page names a preset by default.
    static func displayName(ofPreset preset: String) -> String {
        switch preset {
        case "google": "Google"
        case "github": "GitHub"
        case "microsoft": "Microsoft"
        case "gitlab": "GitLab"
        default: "Single sign-on"
        }
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
        shorthandProvider.microsoftTenants = tenants.map { $0.lowercased() }
        try shorthandProvider.checkMicrosoftTenants()
        if let rule = values.string("REQUIRE_EMAIL_VERIFIED")?.lowercased() {
            switch rule {
            case "always": shorthandProvider.requireEmailVerified = true
            case "if_present": shorthandProvider.requireEmailVerified = false
            default: throw ConfigurationError("GATEHOUSE_REQUIRE_EMAIL_VERIFIED", "must be always or if_present")
            }
        }
    }

    /// A GUID, as Entra ID writes tenant ids: 8-4-4-4-12 hexadecimal digits.
    static func isTenantID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.utf8.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

}
