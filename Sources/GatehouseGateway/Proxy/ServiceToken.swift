import GatehouseHummingbird
import GatehouseOAuth
import Logging

/// The access token a `token: client_credentials` route relays instead of the user's: the
/// gateway's own, from the client credentials grant at the route's provider, cached until due
/// and refreshed by one request for all (``TokenProvider``).
final class ServiceToken: Sendable {
    private let provider: TokenProvider
    private let route: String
    private let logger: Logger

    init(client: OAuthClient, scopes: [String], resources: [String], leeway: Duration, route: String, logger: Logger) {
        self.provider = TokenProvider(
            client: client, source: .clientCredentials(scopes: scopes, resources: resources), leeway: leeway)
        self.route = route
        self.logger = logger
    }

    /// The current access token, or `nil` (logged) when the provider cannot issue one.
    func accessToken() async -> String? {
        do {
            return try await provider.token().accessToken
        } catch {
            logger.error(
                "no service token for the route", metadata: ["route": "\(route)", "error": "\(AuthService.errorCode(error))"])
            return nil
        }
    }

    /// The `503` page when no service token can be had.
    static var unavailablePage: Page {
        Page(
            status: .serviceUnavailable, title: "Application unavailable",
            message: "The gateway cannot get the access token this application needs right now. Please try again in a moment.",
            category: "service_token_unavailable")
    }
}
