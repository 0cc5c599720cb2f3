import ArgumentParser
import Foundation
import GatehouseDevIdP
import GatehouseGateway
import GatehouseHummingbird
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
    @Option(
        help: "A YAML file whose routes: replace the demo's one route and whose providers: (each with an issuer http://127.0.0.1:<port>) replace its one IdP (examples/routes.yaml, examples/providers.yaml)."
    )
    var config: String?

    func run() async throws {
        let setup: DemoSetup
        do {
            var sections: (providers: [ProviderSettings], routes: [Route]) = ([], [])
            if let config {
                sections = try await GatewayConfiguration.sections(file: config, publicURL: "http://127.0.0.1:\(gatewayPort)")
            }
            setup = try DemoSetup(
                ports: .init(gateway: gatewayPort, idp: idpPort, app: appPort), directory: directory,
                accessTokenLifetime: try parseDuration(accessTokenLifetime, flag: "--access-token-lifetime"),
                routes: sections.routes, providers: sections.providers)
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

/// The demo's servers, wired together: one development IdP per provider, the gateway, the app.
struct DemoSetup {
    struct Ports {
        var gateway: Int
        var idp: Int
        var app: Int
    }

    let ports: Ports
    let idps: [IdentityProvider]
    let gateway: Gateway
    let app: WhoamiApp
    let logger = Logger(label: "gatehouse.demo")

    /// Creates the directory and key, the IdPs with the gateway registered as their client,
    /// and the gateway configured as `Serve` would be from the environment. Without
    /// `providers`, one IdP on `ports.idp` is the gateway's only provider; with them, each
    /// provider's issuer (`http://127.0.0.1:<port>`) gets a development IdP of its own (the one
    /// on `ports.idp`, or else the first, with alice and bob; the others with carol and erin).
    init(
        ports: Ports, directory: String, accessTokenLifetime: Duration, routes: [Route] = [],
        providers: [ProviderSettings] = []
    ) throws {
        self.ports = ports
        let key = try DemoFiles.encryptionKey(in: directory)
        let gatewayURL = "http://127.0.0.1:\(ports.gateway)"

        var configuration = GatewayConfiguration()
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = ports.gateway
        configuration.publicURL = gatewayURL
        configuration.upstream = "http://127.0.0.1:\(ports.app)"
        configuration.store = .sqlite(path: (directory as NSString).appendingPathComponent("gatehouse.sqlite"))
        configuration.encryptionKeys = [key]
        configuration.cookieSecure = false
        configuration.passAccessToken = true
        configuration.routes = routes

        var idpSettings: [(issuer: String, port: Int, provider: ProviderSettings)] = []
        if providers.isEmpty {
            var provider = ProviderSettings(id: LoginProvider.defaultID, name: "Development IdP")
            provider.issuer = "http://127.0.0.1:\(ports.idp)"
            provider.clientID = "gatehouse-demo"
            provider.clientSecret = DemoFiles.randomBase64(bytes: 32)
            provider.clientAuth = "client_secret_basic"
            idpSettings = [(provider.issuer ?? "", ports.idp, provider)]
            configuration.shorthandProvider = provider
        } else {
            for (index, var provider) in providers.enumerated() {
                let place = "providers[\(index)] (\(provider.id)).issuer"
                guard let issuer = provider.issuer, let url = URLComponents(string: issuer), url.scheme == "http",
                    url.host == "127.0.0.1", let port = url.port, url.path.isEmpty
                else {
                    throw ConfigurationError(place, "the demo runs each provider itself: use http://127.0.0.1:<port>")
                }
                guard ![ports.gateway, ports.app].contains(port), !idpSettings.contains(where: { $0.port == port }) else {
                    throw ConfigurationError(place, "port \(port) is taken by another of the demo's servers")
                }
                provider.clientSecret = provider.clientSecret ?? DemoFiles.randomBase64(bytes: 32)
                provider.clientAuth = "client_secret_basic"
                idpSettings.append((issuer, port, provider))
            }
            configuration.providers = idpSettings.map(\.provider)
        }
        let primary = idpSettings.firstIndex { $0.port == ports.idp } ?? 0
        self.idps = try idpSettings.enumerated().map { index, entry in
            var idpConfiguration = IdentityProvider.Configuration()
            idpConfiguration.port = entry.port
            idpConfiguration.issuer = entry.issuer
            idpConfiguration.accessTokenLifetime = accessTokenLifetime
            idpConfiguration.users = index == primary ? TestUser.defaults : TestUser.partners
            idpConfiguration.clients = [
                RegisteredClient(
                    id: entry.provider.clientID, secret: entry.provider.clientSecret,
                    redirectURIs: [gatewayURL + LoginProvider.callbackPath(for: entry.provider.id)],
                    postLogoutRedirectURIs: [gatewayURL + "/"],
                    backchannelLogoutURI: gatewayURL + "/oauth2/backchannel-logout",
                    frontchannelLogoutURI: gatewayURL + "/oauth2/frontchannel-logout")
            ]
            return try IdentityProvider(
                configuration: idpConfiguration, backchannelLogout: .asyncHTTPClient,
                logger: Logger(label: "gatehouse.dev-idp"))
        }
        let registry = Observability.bootstrap(configuration)
        self.gateway = try Gateway(configuration: configuration, registry: registry, logger: Logger(label: "gatehouse"))
        self.app = WhoamiApp(port: ports.app)
    }

    /// Runs the servers until SIGINT or SIGTERM, then stops them gracefully.
    func run() async throws {
        FileHandle.standardError.write(Data("\n*** \(DevelopmentOnly.banner) ***\n\n".utf8))
        let ready = DemoReadiness(count: 2 + idps.count) { [idps, ports] in
            // Written unbuffered, so a script reading a pipe sees it at once.
            var text = "\nGatehouse demo is running. Open http://127.0.0.1:\(ports.gateway)/ in a browser.\n"
            text += "  gateway     http://127.0.0.1:\(ports.gateway)\n"
            for idp in idps { text += "  dev IdP     \(idp.issuer)\n" }
            text += "  whoami app  http://127.0.0.1:\(ports.app)  (behind the gateway)\n"
            for idp in idps {
                text += (idps.count > 1 ? "At \(idp.issuer): " : "") + usersText(idp.configuration.users)
            }
            text += "Press Ctrl-C to stop.\n"
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        var services: [any Service] = idps.map { idp in
            ClosureService { try await idp.run { _ in await ready.arrived() } }
        }
        services += [
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
