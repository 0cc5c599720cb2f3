import ArgumentParser
import Foundation
import GatehouseDevIdP
import GatehouseGateway
import Logging
import ServiceLifecycle

/// `gatehouse demo`: the development IdP, the gateway and a small "whoami" application in one
/// process on 127.0.0.1, with SQLite and a generated encryption key under
/// `./.gatehouse-demo/`. No configuration, no network; Ctrl-C stops everything.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the development IdP, the gateway and a demo application together on 127.0.0.1.")

    @Option(help: "Gateway port (the URL to open).")
    var gatewayPort = 4180
    @Option(help: "Development IdP port.")
    var idpPort = 4181
    @Option(help: "Demo application (whoami) port.")
    var appPort = 4182
    @Option(help: "Where the SQLite database and the encryption key live.")
    var directory = ".gatehouse-demo"
    @Option(help: "Access token lifetime (e.g. 30s to watch the gateway refresh).")
    var accessTokenLifetime = "300s"
    @Option(help: "A YAML file whose routes: replace the demo's one route (examples/routes.yaml).")
    var config: String?

    func run() async throws {
        let setup: DemoSetup
        do {
            var routes: [Route] = []
            if let config {
                routes = try await GatewayConfiguration.routes(file: config, publicURL: "http://127.0.0.1:\(gatewayPort)")
            }
            setup = try DemoSetup(
                ports: .init(gateway: gatewayPort, idp: idpPort, app: appPort), directory: directory,
                accessTokenLifetime: try parseDuration(accessTokenLifetime, flag: "--access-token-lifetime"),
                routes: routes)
        } catch let error as DevIdPError {
            FileHandle.standardError.write(Data("gatehouse demo: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("gatehouse demo: \(error)\n".utf8))
            throw ExitCode(2)
        }
        try await setup.run()
    }
}

/// The demo's three servers, wired together.
struct DemoSetup {
    struct Ports {
        var gateway: Int
        var idp: Int
        var app: Int
    }

    let ports: Ports
    let idp: IdentityProvider
    let gateway: Gateway
    let app: WhoamiApp
    let logger = Logger(label: "gatehouse.demo")

    /// Creates the directory and key, the IdP with the gateway registered as a client, and
    /// the gateway configured as `Serve` would be from the environment.
    init(ports: Ports, directory: String, accessTokenLifetime: Duration, routes: [Route] = []) throws {
        self.ports = ports
        let key = try DemoFiles.encryptionKey(in: directory)
        let gatewayURL = "http://127.0.0.1:\(ports.gateway)"
        let issuer = "http://127.0.0.1:\(ports.idp)"
        let clientSecret = DemoFiles.randomBase64(bytes: 32)

        var idpConfiguration = IdentityProvider.Configuration()
        idpConfiguration.port = ports.idp
        idpConfiguration.issuer = issuer
        idpConfiguration.accessTokenLifetime = accessTokenLifetime
        idpConfiguration.clients = [
            RegisteredClient(
                id: "gatehouse-demo", secret: clientSecret, redirectURIs: [gatewayURL + "/oauth2/callback"],
                postLogoutRedirectURIs: [gatewayURL + "/"], backchannelLogoutURI: gatewayURL + "/oauth2/backchannel-logout",
                frontchannelLogoutURI: gatewayURL + "/oauth2/frontchannel-logout")
        ]

        var configuration = GatewayConfiguration()
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = ports.gateway
        configuration.publicURL = gatewayURL
        configuration.issuer = issuer
        configuration.clientID = "gatehouse-demo"
        configuration.clientSecret = clientSecret
        configuration.clientAuth = "client_secret_basic"
        configuration.upstream = "http://127.0.0.1:\(ports.app)"
        configuration.store = .sqlite(path: (directory as NSString).appendingPathComponent("gatehouse.sqlite"))
        configuration.encryptionKeys = [key]
        configuration.cookieSecure = false
        configuration.passAccessToken = true
        configuration.routes = routes

        let registry = Observability.bootstrap(configuration)
        self.idp = try IdentityProvider(
            configuration: idpConfiguration, backchannelLogout: .asyncHTTPClient,
            logger: Logger(label: "gatehouse.dev-idp"))
        self.gateway = try Gateway(configuration: configuration, registry: registry, logger: Logger(label: "gatehouse"))
        self.app = WhoamiApp(port: ports.app)
    }

    /// Runs the three servers until SIGINT or SIGTERM, then stops them gracefully.
    func run() async throws {
        FileHandle.standardError.write(Data("\n*** \(DevelopmentOnly.banner) ***\n\n".utf8))
        let ready = DemoReadiness(count: 3) { [idp, ports] in
            // Written unbuffered, so a script reading a pipe sees it at once.
            var text = "\nGatehouse demo is running. Open http://127.0.0.1:\(ports.gateway)/ in a browser.\n"
            text += "  gateway     http://127.0.0.1:\(ports.gateway)\n"
            text += "  dev IdP     \(idp.issuer)\n"
            text += "  whoami app  http://127.0.0.1:\(ports.app)  (behind the gateway)\n"
            text += usersText(idp.configuration.users) + "Press Ctrl-C to stop.\n"
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let services: [any Service] = [
            ClosureService { [idp] in try await idp.run { _ in await ready.arrived() } },
            ClosureService { [app] in try await app.run { _ in await ready.arrived() } },
            gateway.application { _ in await ready.arrived() },
        ]
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        FileHandle.standardOutput.write(Data("Gatehouse demo stopped.\n".utf8))
    }
}

/// Calls `action` once all `count` servers have reported that they listen.
actor DemoReadiness {
    private var remaining: Int
    private let action: @Sendable () -> Void

    init(count: Int, action: @escaping @Sendable () -> Void) {
        self.remaining = count
        self.action = action
    }

    func arrived() {
        remaining -= 1
        if remaining == 0 { action() }
    }
}
