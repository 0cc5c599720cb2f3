public import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
public import Logging

/// `gatehouse check-config`: every check a deployment can make before serving — the
/// configuration (loaded as `serve` loads it), the encryption keys, the redirect URI, cookie
/// and HTTPS consistency, discovery and the JWKS, and the store — each reported on its own.
public enum ConfigurationCheck {
    /// One line of the report.
    public struct Result: Sendable, CustomStringConvertible {
        public enum Status: Sendable, Equatable {
            case ok
            case failed
            /// Not run because an earlier check it depends on failed.
            case skipped
        }

        public var name: String
        public var status: Status
        /// What was found (for `ok`), or why it failed or was skipped.
        public var detail: String

        static func ok(_ name: String, _ detail: String = "") -> Result { Result(name: name, status: .ok, detail: detail) }
        static func failed(_ name: String, _ detail: String) -> Result { Result(name: name, status: .failed, detail: detail) }

        /// The same result under the name `label` makes of its name.
        func labelled(_ label: (String) -> String) -> Result {
            Result(name: label(name), status: status, detail: detail)
        }

        /// `name  ok (detail)`, `name  FAIL: reason` or `name  skipped (reason)`.
        public var description: String {
            let label = name.padding(toLength: max(name.count, 18), withPad: " ", startingAt: 0)
            switch status {
            case .ok: return label + " ok" + (detail.isEmpty ? "" : " (\(detail))")
            case .failed: return label + " FAIL: " + detail
            case .skipped: return label + " skipped (\(detail))"
            }
        }
    }

    /// Loads the configuration and runs every check. A configuration that does not load is
    /// the only result (the other checks need it).
    public static func run(
        environment: [String: String] = ProcessInfo.processInfo.environment, file: String? = nil,
        storeDeadline: Duration = .seconds(10), logger: Logger = Logger(label: "gatehouse.check-config")
    ) async -> [Result] {
        let configuration: GatewayConfiguration
        do {
            configuration = try await GatewayConfiguration.load(environment: environment, file: file)
        } catch let error as ConfigurationError {
            return [.failed("configuration", error.description)]
        } catch {
            return [.failed("configuration", "\(error)")]
        }
        var results: [Result] = [.ok("configuration", file.map { "environment and \($0)" } ?? "environment")]
        results.append(encryptionKeys(configuration))
        results.append(cookies(configuration))
        results += routes(configuration)
        // Per provider: the shorthand's lines keep their plain names; a file's providers are
        // named `provider ID: …`.
        for provider in configuration.loginProviders {
            let label: (String) -> String = { configuration.providers.isEmpty ? $0 : "provider \(provider.id): \($0)" }
            results.append(redirectURI(configuration, provider: provider).labelled(label))
            results.append(clientAuthentication(provider).labelled(label))
            results.append(emailVerification(provider).labelled(label))
            results += await identityProvider(provider, configuration: configuration, logger: logger).map { $0.labelled(label) }
        }
        results.append(await store(configuration, deadline: storeDeadline, logger: logger))
        return results
    }

    /// The route table, one line per route: what it takes, where it goes, who may reach it.
    /// (A route an earlier one hides, or a field this version does not know, fails loading.)
    static func routes(_ configuration: GatewayConfiguration) -> [Result] {
        guard !configuration.routes.isEmpty else {
            return [.ok("routes", "one: every request to \(configuration.upstream)")]
        }
        var results: [Result] = [.ok("routes", "\(configuration.routes.count), first match wins")]
        for route in configuration.routes {
            var parts = [
                "host " + (route.host ?? "any"), "path /" + route.pathPrefix.joined(separator: "/"),
                "methods " + (route.methods.map { $0.sorted().joined(separator: ",") } ?? "any"), "to " + route.upstream,
            ]
            if route.skipAuth { parts.append("no login") }
            if !route.allow.emails.isEmpty || !route.allow.emailDomains.isEmpty { parts.append("allowed emails or domains only") }
            if !route.allow.groups.isEmpty { parts.append("groups " + route.allow.groups.sorted().joined(separator: ",")) }
            if route.passAccessToken { parts.append("access token relayed") }
            switch route.token {
            case .user: break
            case .none: parts.append("no token relayed")
            case .clientCredentials(let scopes, _):
                parts.append("service token relayed" + (scopes.isEmpty ? "" : " (" + scopes.joined(separator: " ") + ")"))
            }
            if !route.identityHeaders { parts.append("no identity fields") }
            if let providers = route.providers { parts.append("providers " + providers.joined(separator: ",")) }
            if !route.allow.claims.isEmpty { parts.append("claims " + route.allow.claims.keys.sorted().joined(separator: ",")) }
            if let stepUp = route.stepUp {
                var step = "step-up"
                if !stepUp.acrValues.isEmpty { step += " acr " + stepUp.acrValues.joined(separator: "|") }
                if let maxAge = stepUp.maxAge { step += " max_age \(maxAge)s" }
                parts.append(step)
            }
            if route.requireCSRFHeader { parts.append("CSRF header required") }
            results.append(.ok("route " + route.name, parts.joined(separator: "; ")))
        }
        return results
    }

    /// How the gateway authenticates at the token endpoint (the key itself was read and
    /// checked when the configuration loaded).
    static func clientAuthentication(_ configuration: ProviderSettings) -> Result {
        switch (configuration.clientAuth, configuration.clientKey, configuration.clientSecret) {
        case ("private_key_jwt", let key?, _):
            return .ok("client authentication", "private_key_jwt, \(key.algorithm) key, kid \(key.keyID)")
        case (let method?, _, _):
            return .ok("client authentication", method == "none" ? "none (public client: PKCE only)" : method)
        case (nil, _, _?):
            return .ok("client authentication", "client secret, basic or post as the provider's metadata says")
        case (nil, _, nil):
            return .ok("client authentication", "none (public client: PKCE only)")
        }
    }

    /// When an email counts as verified (`GATEHOUSE_REQUIRE_EMAIL_VERIFIED`, by which claim),
    /// and for Microsoft which tenants may sign in (`GATEHOUSE_MICROSOFT_TENANTS`).
    static func emailVerification(_ configuration: ProviderSettings) -> Result {
        let rule = configuration.provider.emailVerification
        var detail =
            rule.isRequired
            ? "always: an email counts only with \(rule.claim) true" : "if_present: an email counts unless \(rule.claim) is false"
        if configuration.kind == "microsoft" {
            let tenants = configuration.microsoftTenants
            detail += "; tenants: " + (tenants.isEmpty ? configuration.microsoftTenant : tenants.joined(separator: ", "))
        }
        return .ok("email verification", detail)
    }

    /// Each key decodes to 32 bytes (``KeyRing`` refuses anything else).
    static func encryptionKeys(_ configuration: GatewayConfiguration) -> Result {
        do {
            let ring = try KeyRing(base64Keys: configuration.encryptionKeys)
            let count = ring.keyIDs.count
            return .ok("encryption keys", "\(count) key\(count == 1 ? "" : "s"), 256-bit; encrypting with \(ring.primaryKeyID)")
        } catch let error as StoreError {
            return .failed("encryption keys", "GATEHOUSE_ENCRYPTION_KEYS: \(error.detail ?? error.shortCode)")
        } catch {
            return .failed("encryption keys", "GATEHOUSE_ENCRYPTION_KEYS: \(error)")
        }
    }

    /// The provider's redirect URI (public URL + its callback path) is absolute, and `https`
    /// unless the host is loopback (RFC 9700 §2.6: no plain-text redirects off the machine).
    static func redirectURI(_ configuration: GatewayConfiguration, provider: ProviderSettings) -> Result {
        let uri = configuration.publicURL + LoginProvider.callbackPath(for: provider.id)
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            return .failed("redirect URI", "GATEHOUSE_PUBLIC_URL: \(uri) is not an absolute URL")
        }
        guard scheme == "https" || (scheme == "http" && ConfigParsing.isLoopbackHost(host)) else {
            return .failed("redirect URI", "GATEHOUSE_PUBLIC_URL: \(uri) must use https (http only for loopback)")
        }
        return .ok("redirect URI", uri)
    }

    /// `GATEHOUSE_COOKIE_SECURE=false` only with a loopback public URL; secure cookies need an
    /// https public URL (a browser does not send them back over http except to loopback).
    static func cookies(_ configuration: GatewayConfiguration) -> Result {
        let loopback = ConfigParsing.isLoopbackURL(configuration.publicURL)
        let https = configuration.publicURL.lowercased().hasPrefix("https://")
        if !configuration.cookieSecure {
            guard loopback else {
                return .failed("cookies", "GATEHOUSE_COOKIE_SECURE: false is allowed only with a loopback GATEHOUSE_PUBLIC_URL")
            }
            return .ok("cookies", "not Secure, allowed for a loopback public URL; named gatehouse")
        }
        guard https || loopback else {
            return .failed(
                "cookies", "GATEHOUSE_COOKIE_SECURE: Secure cookies are never sent back over http; use an https GATEHOUSE_PUBLIC_URL")
        }
        return .ok("cookies", "Secure, HttpOnly, SameSite=Lax, named __Host-gatehouse")
    }
}
