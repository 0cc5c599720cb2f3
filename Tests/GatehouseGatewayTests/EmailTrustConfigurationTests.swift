import Foundation
import Logging
import Testing

@testable import GatehouseGateway
@testable import GatehouseOAuth

/// `GATEHOUSE_MICROSOFT_TENANTS` and `GATEHOUSE_REQUIRE_EMAIL_VERIFIED` (issue 10, nOAuth):
/// a multi-tenant Microsoft issuer does not start without a tenant allow-list, and the email
/// rule reaches the provider the gateway signs in with.
@Suite("Email trust configuration")
struct EmailTrustConfigurationTests {
    static let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    static func microsoft(_ extra: [String: String]) -> [String: String] {
        var environment = ConfigurationTests.minimal
        environment["GATEHOUSE_ISSUER"] = nil
        environment["GATEHOUSE_PROVIDER"] = "microsoft"
        environment.merge(extra) { $1 }
        return environment
    }

    static func loadError(_ environment: [String: String]) async -> ConfigurationError? {
        do {
            _ = try await GatewayConfiguration.load(environment: environment)
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    /// `common` (also the default without an issuer) and `organizations` accept every Entra ID
    /// tenant: refused at start-up, naming the variable.
    @Test(arguments: [
        nil, "https://login.microsoftonline.com/common/v2.0", "https://login.microsoftonline.com/organizations/v2.0",
    ])
    func multiTenantMicrosoftNeedsTheTenants(issuer: String?) async throws {
        let error = await Self.loadError(Self.microsoft(["GATEHOUSE_ISSUER": issuer ?? ""]))
        #expect(error?.variable == "GATEHOUSE_MICROSOFT_TENANTS")
        #expect(error?.message.contains("any Entra ID tenant") == true, "\(String(describing: error))")

        let configuration = try await GatewayConfiguration.load(
            environment: Self.microsoft([
                "GATEHOUSE_ISSUER": issuer ?? "", "GATEHOUSE_MICROSOFT_TENANTS": Self.tenant.uppercased() + ", " + Self.tenant,
            ]))
        #expect(configuration.shorthandProvider.microsoftTenants == [Self.tenant, Self.tenant])
        let provider = configuration.shorthandProvider.provider
        // The allow-list reaches the issuer policy: the tenant's RFC 9207 `iss`, and no other.
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0"
        #expect(
            provider.issuerPolicy.acceptsAuthorizationResponse(
                issuer: "https://login.microsoftonline.com/\(Self.tenant)/v2.0", discovered: template))
        #expect(
            !provider.issuerPolicy.acceptsAuthorizationResponse(
                issuer: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0", discovered: template))
        // The OAuth client, made as serve makes it, accepts the provider.
        _ = try configuration.shorthandProvider.makeOAuthClient(
            gateway: configuration, endpointOverrides: .init(), logger: .init(label: "test"))
    }

    @Test func tenantListIsChecked() async throws {
        let notAGUID = await Self.loadError(Self.microsoft(["GATEHOUSE_MICROSOFT_TENANTS": "contoso.onmicrosoft.com"]))
        #expect(notAGUID?.variable == "GATEHOUSE_MICROSOFT_TENANTS")
        #expect(notAGUID?.message.contains("not a tenant id") == true)
        let common = await Self.loadError(Self.microsoft(["GATEHOUSE_MICROSOFT_TENANTS": "common"]))
        #expect(common?.variable == "GATEHOUSE_MICROSOFT_TENANTS")

        var oidc = ConfigurationTests.minimal
        oidc["GATEHOUSE_MICROSOFT_TENANTS"] = Self.tenant
        #expect(await Self.loadError(oidc)?.variable == "GATEHOUSE_MICROSOFT_TENANTS")

        // A single tenant needs no list; a list must name it.
        let single = "https://login.microsoftonline.com/\(Self.tenant)/v2.0"
        _ = try await GatewayConfiguration.load(environment: Self.microsoft(["GATEHOUSE_ISSUER": single]))
        _ = try await GatewayConfiguration.load(
            environment: Self.microsoft(["GATEHOUSE_ISSUER": single, "GATEHOUSE_MICROSOFT_TENANTS": Self.tenant]))
        let elsewhere = await Self.loadError(
            Self.microsoft(["GATEHOUSE_ISSUER": single, "GATEHOUSE_MICROSOFT_TENANTS": "00000000-0000-0000-0000-000000000001"]))
        #expect(elsewhere?.variable == "GATEHOUSE_MICROSOFT_TENANTS")
    }

    /// A configuration built in code (no loader) is checked when the OAuth client is made.
    @Test func codeBuiltConfigurationIsCheckedToo() async throws {
        var configuration = try await GatewayConfiguration.load(environment: ConfigurationTests.minimal)
        configuration.shorthandProvider.kind = "microsoft"
        configuration.shorthandProvider.issuer = nil
        #expect {
            _ = try configuration.shorthandProvider.makeOAuthClient(
                gateway: configuration, endpointOverrides: .init(), logger: .init(label: "test"))
        } throws: { error in
            (error as? ConfigurationError)?.variable == "GATEHOUSE_MICROSOFT_TENANTS"
        }
    }

    /// Defaults: `always` for Microsoft (by `xms_edov`), `if_present` for a generic issuer;
    /// either can be set, and anything else is refused.
    @Test func requireEmailVerifiedDefaultsAndOverrides() async throws {
        let generic = try await GatewayConfiguration.load(environment: ConfigurationTests.minimal)
        #expect(generic.shorthandProvider.provider.emailVerification == .ifPresent)

        var strict = ConfigurationTests.minimal
        strict["GATEHOUSE_REQUIRE_EMAIL_VERIFIED"] = "always"
        let strictConfiguration = try await GatewayConfiguration.load(environment: strict)
        #expect(strictConfiguration.shorthandProvider.provider.emailVerification == .always)

        let microsoft = try await GatewayConfiguration.load(
            environment: Self.microsoft(["GATEHOUSE_MICROSOFT_TENANTS": Self.tenant]))
        #expect(microsoft.shorthandProvider.provider.emailVerification == .always(claim: "xms_edov"))

        let lenient = try await GatewayConfiguration.load(
            environment: Self.microsoft([
                "GATEHOUSE_MICROSOFT_TENANTS": Self.tenant, "GATEHOUSE_REQUIRE_EMAIL_VERIFIED": "IF_PRESENT",
            ]))
        #expect(lenient.shorthandProvider.provider.emailVerification == EmailVerification(claim: "xms_edov", isRequired: false))

        strict["GATEHOUSE_REQUIRE_EMAIL_VERIFIED"] = "sometimes"
        let error = await Self.loadError(strict)
        #expect(error?.variable == "GATEHOUSE_REQUIRE_EMAIL_VERIFIED")
    }

    @Test func checkConfigReportsTheRule() async throws {
        let microsoft = try await GatewayConfiguration.load(
            environment: Self.microsoft(["GATEHOUSE_MICROSOFT_TENANTS": Self.tenant]))
        let line = ConfigurationCheck.emailVerification(microsoft.loginProviders[0]).description
        #expect(line.contains("always") && line.contains("xms_edov") && line.contains(Self.tenant), "\(line)")
        let generic = try await GatewayConfiguration.load(environment: ConfigurationTests.minimal)
        let genericLine = ConfigurationCheck.emailVerification(generic.loginProviders[0]).description
        #expect(genericLine.contains("if_present") && genericLine.contains("email_verified"), "\(genericLine)")
    }
}
