public import Hummingbird
public import Logging

/// The demo's upstream application: shows what the gateway told it about the user — the
/// identity headers and, when the gateway passes the access token, that token's claims — and
/// a sign-out button that POSTs to the gateway's `/oauth2/sign_out`.
///
/// It trusts the identity headers because it listens on loopback behind the gateway; a real
/// application must make sure only the gateway can reach it.
public struct WhoamiApp: Sendable {
    /// Listen address. Default `127.0.0.1`.
    public var host: String
    /// Listen port. Default `4182`; `0` picks a free port.
    public var port: Int
    public var logger: Logger

    public init(host: String = "127.0.0.1", port: Int = 4182, logger: Logger = Logger(label: "gatehouse.whoami")) {
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// Every path answers: `/api/whoami` with JSON, anything else with the HTML page.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/api/whoami") { request, _ in
            Responses.json(encoding: Whoami(request))
        }
        router.get("/") { request, _ in
            WhoamiPage(whoami: Whoami(request), path: request.uri.path).response()
        }
        router.get("/**") { request, _ in
            WhoamiPage(whoami: Whoami(request), path: request.uri.path).response()
        }
        return router
    }

    /// The application; `onServerRunning` gets the bound port.
    public func application(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<RouterResponder<BasicRequestContext>> {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Runs until the enclosing service group shuts down gracefully.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onServerRunning: onServerRunning).run()
    }
}
