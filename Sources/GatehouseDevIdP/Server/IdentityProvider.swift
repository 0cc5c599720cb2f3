public import Foundation
public import Hummingbird
public import Logging
import Synchronization

/// A small OpenID Connect provider for development and tests — never for production (it
/// says so on every page and refuses a non-loopback address unless forced).
///
/// Authorization code flow with PKCE S256 (required), RFC 9207 `iss` on every authorization
/// response, refresh token rotation with reuse detection, userinfo, revocation (RFC 7009),
/// RP-initiated logout and back-channel logout, RS256 and ES256 keys with rotation. All state
/// is in memory.
public final class IdentityProvider: Sendable {
    public let configuration: Configuration
    let keys: SigningKeys
    let state = IdPState()
    let users: [String: TestUser]
    let clock: @Sendable () -> Date
    let backchannel: BackchannelLogoutSender
    let logger: Logger
    private let boundIssuer = Mutex<String?>(nil)
    private let clients: Mutex<[String: RegisteredClient]>

    /// Generates the signing keys; nothing listens until ``run(onServerRunning:)``.
    ///
    /// - Parameters:
    ///   - clock: "now" for every expiry. Default: the system clock.
    ///   - backchannelLogout: how logout tokens are POSTed to clients. Default: not sent.
    /// - Throws: ``DevIdPError`` for a configuration that ``Configuration/validate()`` refuses.
    public init(
        configuration: Configuration,
        clock: @escaping @Sendable () -> Date = { Date() },
        backchannelLogout: BackchannelLogoutSender = .disabled,
        logger: Logger = Logger(label: "gatehouse.dev-idp")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.keys = try SigningKeys()
        self.users = Dictionary(uniqueKeysWithValues: configuration.users.map { ($0.username, $0) })
        self.clients = Mutex(Dictionary(uniqueKeysWithValues: configuration.clients.map { ($0.id, $0) }))
        self.clock = clock
        self.backchannel = backchannelLogout
        self.logger = logger
    }

    /// The issuer identifier: the configured one, else `http://HOST:PORT` once bound.
    public var issuer: String {
        if let issuer = configuration.issuer { return issuer }
        if let bound = boundIssuer.withLock({ $0 }) { return bound }
        return "http://\(Self.urlHost(configuration.host)):\(configuration.port)"
    }

    /// Adds or replaces a client registration (at any time, also while running).
    public func register(_ client: RegisteredClient) {
        clients.withLock { $0[client.id] = client }
    }

    /// The registration of `id`.
    public func client(_ id: String) -> RegisteredClient? {
        clients.withLock { $0[id] }
    }

    /// Replaces the signing keys; the previous ones stay in the JWKS until the next rotation.
    /// Also `POST /admin/rotate-keys` from loopback.
    public func rotateKeys() throws {
        try keys.rotate()
        logger.notice("signing keys rotated", metadata: ["kids": "\(keys.currentKeyIDs.joined(separator: ","))"])
    }

    /// The key ids that sign now (RS256 first, then ES256).
    public var signingKeyIDs: [String] { keys.currentKeyIDs }

    /// Every route of the IdP.
    public func router() -> Router<IdPRequestContext> {
        let router = Router(context: IdPRequestContext.self)
        DiscoveryRoutes(idp: self).register(on: router)
        AuthorizeRoutes(idp: self).register(on: router)
        TokenRoutes(idp: self).register(on: router)
        PushedAuthorizationRoutes(idp: self).register(on: router)
        ResourceRoutes(idp: self).register(on: router)
        LogoutRoutes(idp: self).register(on: router)
        return router
    }

    /// The application. `onServerRunning` gets the bound port (useful with port 0); the issuer
    /// is known from then on.
    public func application(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<RouterResponder<IdPRequestContext>> {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? self.configuration.port
                self.boundIssuer.withLock { $0 = "http://\(Self.urlHost(self.configuration.host)):\(port)" }
                await onServerRunning(port)
            },
            logger: logger)
    }

    /// Runs until the enclosing service group shuts down gracefully (or the task is
    /// cancelled). Use it as a service's `run()`.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onServerRunning: onServerRunning).run()
    }

    /// `now` from the injected clock.
    var now: Date { clock() }

    /// Brackets an IPv6 literal for use in a URL.
    static func urlHost(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}

extension IdentityProvider {
    /// The test user with this `sub`.
    func user(subject: String) -> TestUser? {
        configuration.users.first { $0.subject == subject }
    }
}
