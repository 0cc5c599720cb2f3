import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import Yams

/// The YAML file's `providers:` list (DESIGN §2) as ``ProviderSettings``. Strict like
/// ``RoutesFile``: an unknown field is an error naming its place (`providers[1] (corp).issuer`).
enum ProvidersFile {
    static let fields: Set<String> = [
        "id", "name", "issuer", "preset", "client_id", "client_secret", "client_secret_file", "client_key_file",
        "client_key_id", "client_auth", "scopes", "extra_auth_params", "microsoft_tenants", "require_email_verified",
        "par", "jar", "dpop", "profile",
    ]
    static let presets: Set<String> = ["oidc", "google", "github", "microsoft", "gitlab"]

    static func providers(_ node: Yams.Node) throws -> [ProviderSettings] {
        guard let sequence = node.sequence, !sequence.isEmpty else {
            throw ConfigurationError("providers", "must be a non-empty list of providers")
        }
        var providers: [ProviderSettings] = []
        for (index, item) in sequence.enumerated() {
            var place = "providers[\(index)]"
            guard let mapping = item.mapping else { throw ConfigurationError(place, "must be a mapping") }
            if let given = mapping.first(where: { $0.key.string == "id" })?.value.string, LoginProvider.isValidID(given) {
                place += " (\(given))"
            }
            let provider = try read(mapping, at: place)
            guard !providers.contains(where: { $0.id == provider.id }) else {
                throw ConfigurationError(place + ".id", "is used by an earlier provider")
            }
            providers.append(provider)
        }
        return providers
    }

    private static func read(_ mapping: Yams.Node.Mapping, at place: String) throws -> ProviderSettings {
        let fields = try YAMLFields.fields(mapping, allowed: fields, at: place)
        func text(_ name: String) throws -> String? {
            guard let node = fields[name] else { return nil }
            guard let value = node.string?.trimmingWhitespace(), !value.isEmpty else {
                throw ConfigurationError("\(place).\(name)", "must be a non-empty value")
            }
            return value
        }
        guard let id = try text("id"), LoginProvider.isValidID(id), id.utf8.count <= 64 else {
            throw ConfigurationError(place + ".id", "is required: lower-case letters, digits and -")
        }
        let preset = try text("preset")?.lowercased() ?? "oidc"
        guard presets.contains(preset) else {
            throw ConfigurationError(place + ".preset", "must be oidc, google, github, microsoft or gitlab")
        }
        var settings = ProviderSettings(
            id: id, name: try text("name") ?? GatewayConfiguration.displayName(ofPreset: preset))
        settings.place = { variable in "\(place).\(variable.lowercased())" }
        settings.kind = preset
        settings.issuer = try text("issuer").map { try ConfigParsing.issuer($0, variable: place + ".issuer") }
        if preset == "oidc", settings.issuer == nil {
            throw ConfigurationError(place + ".issuer", "is required (or a preset: google, github, microsoft, gitlab)")
        }
        guard let clientID = try text("client_id") else { throw ConfigurationError(place + ".client_id", "is required") }
        settings.clientID = clientID
        settings.clientSecret = try ClientCredentials.secret(
            inline: try text("client_secret"), file: try text("client_secret_file"), place: settings.place)
        settings.clientKey = try ClientCredentials.key(
            file: try text("client_key_file"), keyID: try text("client_key_id"), place: settings.place)
        settings.clientAuth = try ClientCredentials.method(
            try text("client_auth")?.lowercased(), hasSecret: settings.clientSecret != nil,
            hasKey: settings.clientKey != nil, place: settings.place)
        if let scopes = fields["scopes"] {
            let list = try YAMLFields.list(scopes, at: place + ".scopes").flatMap { $0.split(separator: " ").map(String.init) }
            settings.scopes = list.isEmpty ? nil : list
        }
        if let extra = fields["extra_auth_params"] {
            settings.extraAuthParams = try authParams(extra, at: place + ".extra_auth_params")
        }
        if let tenants = fields["microsoft_tenants"] {
            let list = try YAMLFields.list(tenants, at: place + ".microsoft_tenants")
            for tenant in list where !GatewayConfiguration.isTenantID(tenant) {
                throw ConfigurationError(place + ".microsoft_tenants", "\"\(tenant)\" is not a tenant id (a GUID)")
            }
            settings.microsoftTenants = list.map { $0.lowercased() }
        }
        if let rule = try text("require_email_verified")?.lowercased() {
            switch rule {
            case "always", "true": settings.requireEmailVerified = true
            case "if_present", "false": settings.requireEmailVerified = false
            default: throw ConfigurationError(place + ".require_email_verified", "must be always or if_present")
            }
        }
        if let par = try text("par") {
            settings.pushedAuthorization = try pushedAuthorization(par, place: settings.place)
        }
        if let jar = try text("jar") {
            settings.signsRequestObjects = try ConfigParsing.bool(jar, variable: settings.place("JAR"))
            try checkRequestObjects(settings)
        }
        if let dpop = try text("dpop") {
            settings.usesDPoP = try ConfigParsing.bool(dpop, variable: settings.place("DPOP"))
        }
        if let profile = try text("profile") {
            settings.profile = try Self.profile(profile, place: settings.place)
        }
        try settings.checkMicrosoftTenants()
        return settings
    }

    /// Signed request objects need the client key of `private_key_jwt`.
    static func checkRequestObjects(_ settings: ProviderSettings) throws {
        guard settings.signsRequestObjects, settings.clientAuth != "private_key_jwt" || settings.clientKey == nil else { return }
        throw ConfigurationError(
            settings.place("JAR"), "signs request objects with the client key: it needs private_key_jwt (a client key file)")
    }

    /// `fapi2` (``SecurityProfile``).
    static func profile(_ text: String, place: ClientCredentials.Place) throws -> SecurityProfile {
        guard let profile = SecurityProfile(rawValue: text.lowercased()) else {
            throw ConfigurationError(place("PROFILE"), "must be fapi2")
        }
        return profile
    }

    /// `auto`, `always` or `never` (also `true`/`false` for the last two).
    static func pushedAuthorization(_ text: String, place: ClientCredentials.Place) throws -> PushedAuthorization {
        switch text.lowercased() {
        case "auto": return .auto
        case "always", "true": return .always
        case "never", "false": return .never
        default: throw ConfigurationError(place("PAR"), "must be auto, always or never")
        }
    }

    /// `extra_auth_params`: a mapping of parameter names to values; the protocol's own
    /// parameters (`state`, `redirect_uri`…) cannot be set.
    private static func authParams(_ node: Yams.Node, at place: String) throws -> [(String, String)] {
        guard let mapping = node.mapping else { throw ConfigurationError(place, "must be a mapping of names to values") }
        return try mapping.map { key, value in
            guard let name = key.string, !name.isEmpty, let text = value.string else {
                throw ConfigurationError(place, "must be a mapping of names to values")
            }
            guard !AuthorizationParameters.reservedNames.contains(name) else {
                throw ConfigurationError("\(place).\(name)", "is set by Gatehouse and cannot be overridden")
            }
            return (name, text)
        }
    }
}
