import Crypto
import CryptoExtras
import Foundation
@testable import GatehouseGateway
import GatehouseOAuth
import Testing

/// `GATEHOUSE_*` and the YAML file: defaults, precedence, and messages naming the variable.
@Suite("Gateway configuration")
struct ConfigurationTests {
    static let minimal = [
        "GATEHOUSE_ISSUER": "https://idp.example",
        "GATEHOUSE_CLIENT_ID": "app",
        "GATEHOUSE_CLIENT_SECRET": "s3cret",
        "GATEHOUSE_UPSTREAM": "http://app.internal:8080",
        "GATEHOUSE_ENCRYPTION_KEYS": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]

    @Test func defaults() async throws {
        let configuration = try await GatewayConfiguration.load(environment: Self.minimal)
        #expect(configuration.listenHost == "127.0.0.1")
        #expect(configuration.listenPort == 4180)
        #expect(configuration.publicURL == "http://127.0.0.1:4180")
        #expect(configuration.shorthandProvider.kind == "oidc")
        #expect(configuration.shorthandProvider.pushedAuthorization == .auto)
        var never = Self.minimal
        never["GATEHOUSE_PAR"] = "never"
        #expect(try await GatewayConfiguration.load(environment: never).shorthandProvider.pushedAuthorization == .never)
        never["GATEHOUSE_PAR"] = "maybe"
        await #expect(throws: ConfigurationError.self) { try await GatewayConfiguration.load(environment: never) }
        // Signed request objects need the private_key_jwt key.
        var jar = Self.minimal
        jar["GATEHOUSE_JAR"] = "true"
        do {
            _ = try await GatewayConfiguration.load(environment: jar)
            Issue.record("GATEHOUSE_JAR without a client key was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable == "GATEHOUSE_JAR")
        }
        #expect(configuration.cookieSecure)
        #expect(configuration.store == .sqlite(path: "gatehouse.db"))
        #expect(configuration.sessionIdleTimeout == .seconds(8 * 3600))
        #expect(configuration.sessionMaxAge == .seconds(7 * 86400))
        #expect(configuration.idpTimeout == .seconds(10))
        #expect(configuration.upstreamTimeout == .seconds(60))
        #expect(configuration.directProxy)
        #expect(!configuration.proxyCSRF)
        #expect(!configuration.passAccessToken)
        #expect(configuration.logLevel == "info")
        #expect(configuration.logFormat == "text")
        #expect(configuration.shorthandProvider.scopes == nil)
    }

    /// The issuer is compared byte for byte with discovery and ID tokens, so a trailing `/`
    /// (Auth0's, Ory Hydra's) is kept; other base URLs lose theirs.
    @Test func issuerIsKeptExactlyAsGiven() async throws {
        var environment = Self.minimal
        environment["GATEHOUSE_ISSUER"] = "https://tenant.idp.example/"
        environment["GATEHOUSE_PUBLIC_URL"] = "https://app.example/"
        let configuration = try await GatewayConfiguration.load(environment: environment)
        #expect(configuration.shorthandProvider.issuer == "https://tenant.idp.example/")
        #expect(configuration.publicURL == "https://app.example")
    }

    /// `private_key_jwt`: `GATEHOUSE_CLIENT_KEY_FILE` (PEM, read at load) implies it without a
    /// secret; a bad file, a missing key or a key beside another method stop start-up.
    @Test func clientKeyForPrivateKeyJWT() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-key-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("client.pem")
        try P256.Signing.PrivateKey().pemRepresentation.write(to: keyFile, atomically: true, encoding: .utf8)
        let notAKey = directory.appendingPathComponent("not.pem")
        try "hello".write(to: notAKey, atomically: true, encoding: .utf8)

        var environment = Self.minimal
        environment["GATEHOUSE_CLIENT_SECRET"] = nil
        environment["GATEHOUSE_CLIENT_KEY_FILE"] = keyFile.path
        let implied = try await GatewayConfiguration.load(environment: environment)
        #expect(implied.shorthandProvider.clientAuth == "private_key_jwt")
        #expect(implied.shorthandProvider.clientKey?.algorithm == "ES256")
        #expect(implied.shorthandProvider.clientKey?.keyID.count == 43)
        environment["GATEHOUSE_CLIENT_KEY_ID"] = "key-1"
        environment["GATEHOUSE_CLIENT_AUTH"] = "private_key_jwt"
        #expect(try await GatewayConfiguration.load(environment: environment).shorthandProvider.clientKey?.keyID == "key-1")

        func failure(_ change: (inout [String: String]) -> Void) async -> String? {
            await Self.failingVariable(environment, change)
        }
        #expect(await failure { $0["GATEHOUSE_CLIENT_KEY_FILE"] = notAKey.path } == "GATEHOUSE_CLIENT_KEY_FILE")
        #expect(await failure { $0["GATEHOUSE_CLIENT_KEY_FILE"] = directory.appendingPathComponent("missing").path }
            == "GATEHOUSE_CLIENT_KEY_FILE")
        #expect(await failure { $0["GATEHOUSE_CLIENT_KEY_FILE"] = nil; $0["GATEHOUSE_CLIENT_KEY_ID"] = nil }
            == "GATEHOUSE_CLIENT_AUTH")
        #expect(await failure { $0["GATEHOUSE_CLIENT_AUTH"] = "client_secret_post"; $0["GATEHOUSE_CLIENT_SECRET"] = "s" }
            == "GATEHOUSE_CLIENT_KEY_FILE")
        #expect(await failure { $0["GATEHOUSE_CLIENT_AUTH"] = nil; $0["GATEHOUSE_CLIENT_SECRET"] = "s" }
            == "GATEHOUSE_CLIENT_AUTH")
    }

    /// `GATEHOUSE_PROFILE=fapi2`: only `private_key_jwt` (an RSA key then signs PS256), PAR
    /// never `never`, and YAML providers take it unless they name their own `profile`.
    @Test func theFAPI2ProfileRefusesSecretsAndNeedsAKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-fapi-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("client.pem")
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        try rsa.pemRepresentation.write(to: keyFile, atomically: true, encoding: .utf8)

        var environment = Self.minimal
        environment["GATEHOUSE_PROFILE"] = "fapi2"
        func failure(_ change: (inout [String: String]) -> Void) async -> String? {
            await Self.failingVariable(environment, change)
        }
        #expect(await failure { _ in } == "GATEHOUSE_CLIENT_SECRET")
        #expect(await failure { $0["GATEHOUSE_CLIENT_SECRET"] = nil } == "GATEHOUSE_CLIENT_KEY_FILE")
        #expect(await failure { $0["GATEHOUSE_PROFILE"] = "fapi1" } == "GATEHOUSE_PROFILE")
        environment["GATEHOUSE_CLIENT_SECRET"] = nil
        environment["GATEHOUSE_CLIENT_KEY_FILE"] = keyFile.path
        #expect(await failure { $0["GATEHOUSE_PAR"] = "never" } == "GATEHOUSE_PAR")
        let configuration = try await GatewayConfiguration.load(environment: environment)
        #expect(configuration.shorthandProvider.profile == .fapi2)
        let client = try configuration.shorthandProvider.makeOAuthClient(
            gateway: configuration, endpointOverrides: .init(), logger: .init(label: "test"))
        #expect(client.configuration.authentication.signingAlgorithm == "PS256")
        #expect(client.configuration.usesDPoP && client.configuration.pushedAuthorization == .always)
        #expect(client.configuration.requiresIssuerParameter)

        // YAML: the gateway-wide profile, or a provider's own.
        let yaml = directory.appendingPathComponent("gatehouse.yaml")
        try """
            providers:
              - {id: strict, name: Strict, issuer: "https://a.example", client_id: a, client_key_file: \(keyFile.path)}
              - {id: plain, name: Plain, issuer: "https://b.example", client_id: b, client_secret: s, profile: fapi2}
            """.write(to: yaml, atomically: true, encoding: .utf8)
        var fileEnvironment = Self.minimal
        for name in ["GATEHOUSE_ISSUER", "GATEHOUSE_CLIENT_ID", "GATEHOUSE_CLIENT_SECRET"] { fileEnvironment[name] = nil }
        do {
            _ = try await GatewayConfiguration.load(environment: fileEnvironment, file: yaml.path)
            Issue.record("a provider with profile: fapi2 and a client secret was accepted")
        } catch let error as ConfigurationError {
            #expect(error.variable.contains("plain"), "\(error)")
        }
        fileEnvironment["GATEHOUSE_PROFILE"] = "fapi2"
        try """
            providers:
              - {id: strict, name: Strict, issuer: "https://a.example", client_id: a, client_key_file: \(keyFile.path)}
            """.write(to: yaml, atomically: true, encoding: .utf8)
        let loaded = try await GatewayConfiguration.load(environment: fileEnvironment, file: yaml.path)
        #expect(loaded.providers.first?.profile == .fapi2)
    }

    /// The variable a configuration error names once `change` is applied to `environment`
    /// (the error's text when it is no configuration error), `nil` when it loads.
    static func failingVariable(
        _ environment: [String: String], _ change: (inout [String: String]) -> Void
    ) async -> String? {
        var changed = environment
        change(&changed)
        do {
            _ = try await GatewayConfiguration.load(environment: changed)
            return nil
        } catch let error as ConfigurationError {
            return error.variable
        } catch {
            return "\(error)"
        }
    }

    static let bad: [(String, String)] = [
        ("GATEHOUSE_LISTEN", "4180"),
        ("GATEHOUSE_LISTEN", "127.0.0.1:99999"),
        ("GATEHOUSE_PUBLIC_URL", "http://app.example"),
        ("GATEHOUSE_PUBLIC_URL", "ftp://127.0.0.1"),
        ("GATEHOUSE_PUBLIC_URL", "http://127.example.com"),
        ("GATEHOUSE_ISSUER", "http://127.0.0.1.evil.example/o"),
        ("GATEHOUSE_PROVIDER", "okta"),
        ("GATEHOUSE_ISSUER", "not a url"),
        ("GATEHOUSE_CLIENT_AUTH", "magic"),
        ("GATEHOUSE_IDP_TIMEOUT", "10"),
        ("GATEHOUSE_UPSTREAM_TIMEOUT", "0s"),
        ("GATEHOUSE_UPSTREAM_TIMEOUT", "soon"),
        ("GATEHOUSE_DIRECT_PROXY", "off"),
        ("GATEHOUSE_PROXY_CSRF", "yes"),
        ("GATEHOUSE_UPSTREAM", "app:8080"),
        ("GATEHOUSE_STORE", "mysql://x"),
        ("GATEHOUSE_COOKIE_SECURE", "yes"),
        ("GATEHOUSE_SESSION_IDLE_TIMEOUT", "-5m"),
        ("GATEHOUSE_SESSION_MAX_AGE", "7 days"),
        ("GATEHOUSE_ALLOWED_EMAILS", "alice"),
        ("GATEHOUSE_PASS_ACCESS_TOKEN", "1"),
        ("GATEHOUSE_SKIP_AUTH_ROUTES", "public"),
        ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("GATEHOUSE_TRUSTED_PROXIES", "proxy.internal"),
        ("GATEHOUSE_LOG_LEVEL", "loud"),
        ("GATEHOUSE_LOG_FORMAT", "xml"),
    ]

    @Test(arguments: bad)
    func badValueNamesTheVariable(_ variable: String, _ value: String) async throws {
        var environment = Self.minimal
        environment[variable] = value
        let error = await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(environment: environment)
        }
        #expect(error?.variable == variable)
    }

    @Test(arguments: ["GATEHOUSE_ISSUER", "GATEHOUSE_CLIENT_ID", "GATEHOUSE_UPSTREAM", "GATEHOUSE_ENCRYPTION_KEYS"])
    func missingRequiredNamesTheVariable(_ variable: String) async throws {
        var environment = Self.minimal
        environment[variable] = nil
        let error = await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(environment: environment)
        }
        #expect(error?.variable == variable)
    }

    @Test func insecureCookiesOnlyOnLoopback() async throws {
        var environment = Self.minimal
        environment["GATEHOUSE_COOKIE_SECURE"] = "false"
        #expect(try await !GatewayConfiguration.load(environment: environment).cookieSecure)
        environment["GATEHOUSE_PUBLIC_URL"] = "https://app.example"
        let error = await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(environment: environment)
        }
        #expect(error?.variable == "GATEHOUSE_COOKIE_SECURE")
    }

    @Test func yamlFileWithEnvironmentWinning() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        let yaml = """
            issuer: https://idp.example
            client_id: from-file
            client_secret: s3cret
            upstream: http://app.internal:8080
            encryption_keys: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
            listen: 0.0.0.0:8080
            allowed_groups: [staff, admins]
            skip_auth_routes: /public,/health
            session_max_age: 1d
            pass_access_token: true
            """
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try await GatewayConfiguration.load(
            environment: ["GATEHOUSE_CLIENT_ID": "from-env", "HOME": "/root"], file: file.path)
        #expect(configuration.shorthandProvider.clientID == "from-env")
        #expect(configuration.listenHost == "0.0.0.0")
        #expect(configuration.listenPort == 8080)
        #expect(configuration.rules.groups == ["staff", "admins"])
        #expect(configuration.skipAuthRoutes.matches("/health/live"))
        #expect(configuration.sessionMaxAge == .seconds(86400))
        #expect(configuration.passAccessToken)
    }

    @Test func missingYAMLFileIsAnError() async throws {
        await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(environment: Self.minimal, file: "/nonexistent/gatehouse.yaml")
        }
    }
}
