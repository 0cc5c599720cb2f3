import Foundation
public import GatehouseDevIdP
public import Logging
import ServiceLifecycle

/// The development identity provider as a fixture for an app's own tests: a real OpenID
/// Connect provider on `127.0.0.1` (a free port), with the users and client registrations
/// the test chooses, for as long as a closure runs.
///
/// ```swift
/// try await TestIdentityProvider.withRunning(clients: [
///     RegisteredClient(id: "my-app", secret: "s", redirectURIs: ["http://127.0.0.1:8080/auth/callback"])
/// ]) { idp in
///     // configure the app with idp.issuer, start it, then:
///     let alice = try await idp.signIn(as: "alice", startingAt: "http://127.0.0.1:8080/auth/login")
///     // alice.cookieHeader is a signed-in browser's Cookie field for the app
/// }
/// ```
///
/// A sign-in goes over HTTP through the app's own login and callback routes, as a browser's
/// would: nothing is written into the app's session store.
public struct TestIdentityProvider: Sendable {
    /// The running provider (register more clients, rotate keys, …).
    public let provider: IdentityProvider

    /// The people who can sign in (by default alice and bob, ``TestUser/defaults``).
    public var users: [TestUser] { provider.configuration.users }

    /// The issuer identifier (`http://127.0.0.1:PORT`): what the app discovers.
    public var issuer: String { provider.issuer }

    /// Runs `body` while a development IdP serves on `127.0.0.1` at a free port; the server
    /// stops (gracefully) when `body` returns or throws.
    ///
    /// - Parameters:
    ///   - users: who can sign in, and their claims.
    ///   - clients: the registered clients (each with its exact redirect URIs).
    ///   - configure: anything else (token lifetimes, …) before it starts.
    public static func withRunning<Result: Sendable>(
        users: [TestUser] = TestUser.defaults,
        clients: [RegisteredClient],
        configure: (inout IdentityProvider.Configuration) -> Void = { _ in },
        logger: Logger = Self.quietLogger,
        _ body: (TestIdentityProvider) async throws -> Result
    ) async throws -> Result {
        var configuration = IdentityProvider.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.users = users
        configuration.clients = clients
        configure(&configuration)
        let provider = try IdentityProvider(configuration: configuration, logger: logger)
        return try await withRunning(provider, logger: logger, body)
    }

    /// Runs `body` while `provider` (made by the caller: its own clock, back-channel logout
    /// sender, …; configured with port `0` for a free one) serves; it stops (gracefully) when
    /// `body` returns or throws.
    public static func withRunning<Result: Sendable>(
        _ provider: IdentityProvider, logger: Logger = Self.quietLogger, _ body: (TestIdentityProvider) async throws -> Result
    ) async throws -> Result {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let service = ProviderService(provider: provider) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard await iterator.next() != nil else {
                await group.triggerGracefulShutdown()
                throw TestSignInError("the development IdP did not start")
            }
            do {
                let result = try await body(TestIdentityProvider(provider: provider))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// A logger that reports only errors.
    public static var quietLogger: Logger {
        var logger = Logger(label: "gatehouse.testing.idp")
        logger.logLevel = .error
        return logger
    }

    /// Signs `username` in through the app, starting at its login route `loginURL` (for
    /// example `http://127.0.0.1:8080/auth/login?rd=/`): follows the app's redirect to this
    /// provider, fills in the login form with the user's password, follows the provider's
    /// redirect to the app's callback, and returns the browser's cookies once the app has
    /// answered it. Throws ``TestSignInError`` when a step does not go as a browser's would.
    public func signIn(as username: String, startingAt loginURL: String) async throws -> TestSignIn {
        guard let user = users.first(where: { $0.username == username }) else {
            throw TestSignInError("no test user \(username) at this provider")
        }
        let browser = TestBrowser()
        return try await browser.signIn(user: user, issuer: issuer, loginURL: loginURL)
    }
}

/// The development IdP as a ``Service``.
private struct ProviderService: Service {
    let provider: IdentityProvider
    let onRunning: @Sendable (Int) async -> Void

    func run() async throws {
        try await provider.run(onServerRunning: onRunning)
    }
}
