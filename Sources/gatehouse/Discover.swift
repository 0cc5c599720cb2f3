import ArgumentParser
import AsyncHTTPClient
import Foundation
import GatehouseOAuth

/// `gatehouse discover ISSUER`: fetch and check an issuer's discovery document and keys.
struct Discover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch an issuer's OpenID Connect discovery document and JWKS, check them, and print a summary.")

    @Argument(help: "The issuer URL (https, or http on loopback).")
    var issuer: String

    @Option(help: "Deadline for each request, in seconds.")
    var timeout: Int = 10

    func run() async throws {
        let lines: [(String, String)]
        do {
            lines = try await summary()
        } catch {
            throw ValidationError("discovery failed: \(error)")
        }
        for (name, value) in lines {
            print(name.padding(toLength: 24, withPad: " ", startingAt: 0) + value)
        }
    }

    private func summary() async throws(OAuthError) -> [(String, String)] {
        var configuration = OAuthClient.Configuration(
            clientID: "gatehouse-discover", authentication: .none, redirectURI: "http://127.0.0.1/callback")
        configuration.timeout = .seconds(timeout)
        let client = try OAuthClient(provider: .oidc(issuer: issuer), configuration: configuration)
        let metadata = try await client.metadata()
        let keyIDs = try await client.signingKeyIDs()
        return [
            ("issuer", metadata.issuer),
            ("authorization_endpoint", metadata.authorizationEndpoint),
            ("token_endpoint", metadata.tokenEndpoint),
            ("userinfo_endpoint", metadata.userInfoEndpoint ?? "-"),
            ("revocation_endpoint", metadata.revocationEndpoint ?? "-"),
            ("end_session_endpoint", metadata.endSessionEndpoint ?? "-"),
            ("jwks_uri", metadata.jwksURI ?? "-"),
            ("PKCE S256", metadata.codeChallengeMethodsSupported?.contains("S256") == true ? "yes" : "not advertised"),
            ("RFC 9207 iss", metadata.authorizationResponseIssParameterSupported == true ? "yes" : "no"),
            ("signing keys", keyIDs.map { $0 ?? "(no kid)" }.joined(separator: ", ")),
        ]
    }
}
