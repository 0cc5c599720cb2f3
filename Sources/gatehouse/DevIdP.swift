import ArgumentParser
import Foundation
import GatehouseDevIdP
import Logging
import ServiceLifecycle

/// `gatehouse dev-idp`: the development OpenID Connect provider alone (never for production).
struct DevIdP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-idp",
        abstract: "Run the development OpenID Connect provider (for development and tests only; never in production).")

    @Option(help: "Listen address (loopback only unless --force-non-loopback).")
    var host = "127.0.0.1"
    @Option(help: "Listen port.")
    var port = 4181
    @Option(help: "Issuer URL. Default: http://HOST:PORT.")
    var issuer: String?
    @Option(name: .customLong("user"), help: "A test user: username:password[:email[:name[:group,group]]] (repeatable; replaces alice and bob).")
    var users: [String] = []
    @Option(help: "A JSON file with an array of test users (username, password, email, name, groups).")
    var usersFile: String?
    @Option(help: "The client id to register.")
    var clientID = RegisteredClient.gatewayDefault.id
    @Option(help: "Its client secret; an empty string registers a public client.")
    var clientSecret = RegisteredClient.gatewayDefault.secret ?? ""
    @Option(help: "A PEM public key (RSA or EC P-256): the client authenticates with private_key_jwt signed by its private key, and has no secret.")
    var clientPublicKey: String?
    @Option(name: .customLong("redirect-uri"), help: "A registered redirect URI (repeatable).")
    var redirectURIs: [String] = []
    @Option(name: .customLong("post-logout-redirect-uri"), help: "A registered post-logout redirect URI (repeatable).")
    var postLogoutRedirectURIs: [String] = []
    @Option(help: "Where the client receives back-channel logout tokens.")
    var backchannelLogoutURI: String?
    @Option(help: "ID token algorithm: RS256 or ES256.")
    var idTokenAlg = "RS256"
    @Option(help: "Access token lifetime (30s, 5m, …).")
    var accessTokenLifetime = "300s"
    @Option(help: "Refresh token lifetime.")
    var refreshTokenLifetime = "8h"
    @Flag(help: "Allow a non-loopback listen address (this IdP has test passwords: never in production).")
    var forceNonLoopback = false

    func run() async throws {
        let logger = Logger(label: "gatehouse.dev-idp")
        let idp: IdentityProvider
        do {
            idp = try IdentityProvider(configuration: try makeConfiguration(), backchannelLogout: .asyncHTTPClient, logger: logger)
        } catch let error as DevIdPError {
            FileHandle.standardError.write(Data("gatehouse dev-idp: \(error)\n".utf8))
            throw ExitCode(2)
        }
        FileHandle.standardError.write(Data("\n*** \(DevelopmentOnly.banner) ***\n\n".utf8))
        let service = ClosureService {
            try await idp.run { _ in
                var text = "Development IdP at \(idp.issuer)  (discovery: \(idp.issuer)/.well-known/openid-configuration)\n"
                for client in idp.configuration.clients {
                    let credential =
                        client.assertionKeyPEM != nil
                        ? " (private_key_jwt)" : client.secret.map { " / secret \($0)" } ?? " (public)"
                    text += "Client \(client.id)" + credential + "\n"
                    text += "  redirect URIs: \(client.redirectURIs.joined(separator: " "))\n"
                }
                text += usersText(idp.configuration.users)
                text += "Rotate keys: curl -X POST \(idp.issuer)/admin/rotate-keys\n"
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func makeConfiguration() throws -> IdentityProvider.Configuration {
        var configuration = IdentityProvider.Configuration()
        configuration.host = host
        configuration.port = port
        configuration.issuer = issuer.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        configuration.forceNonLoopback = forceNonLoopback
        if let usersFile { configuration.users = try TestUser.load(jsonFile: usersFile) }
        if !users.isEmpty { configuration.users = try users.map(TestUser.init(flag:)) }
        configuration.accessTokenLifetime = try parseDuration(accessTokenLifetime, flag: "--access-token-lifetime")
        configuration.refreshTokenLifetime = try parseDuration(refreshTokenLifetime, flag: "--refresh-token-lifetime")
        guard let algorithm = RegisteredClient.SigningAlgorithm(rawValue: idTokenAlg.uppercased()) else {
            throw DevIdPError("--id-token-alg must be RS256 or ES256")
        }
        var assertionKey: String?
        if let clientPublicKey {
            guard let data = FileManager.default.contents(atPath: clientPublicKey) else {
                throw DevIdPError("--client-public-key: cannot read \(clientPublicKey)")
            }
            assertionKey = String(decoding: data, as: UTF8.self)
        }
        let defaults = RegisteredClient.gatewayDefault
        configuration.clients = [
            RegisteredClient(
                id: clientID, secret: clientSecret.isEmpty || assertionKey != nil ? nil : clientSecret,
                redirectURIs: redirectURIs.isEmpty ? defaults.redirectURIs : redirectURIs,
                postLogoutRedirectURIs: postLogoutRedirectURIs.isEmpty ? defaults.postLogoutRedirectURIs : postLogoutRedirectURIs,
                backchannelLogoutURI: backchannelLogoutURI, idTokenAlgorithm: algorithm, assertionKeyPEM: assertionKey)
        ]
        return configuration
    }
}
