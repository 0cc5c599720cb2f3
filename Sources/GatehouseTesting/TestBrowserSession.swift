import Foundation
import GatehouseDevIdP

extension TestBrowser {
    /// A whole sign-in of `user` through an app: its login route `loginURL`, the provider at
    /// `issuer` (login form), the app's callback (``TestIdentityProvider/signIn(as:startingAt:)``).
    func signIn(user: TestUser, issuer: String, loginURL: String) async throws -> TestSignIn {
        let navigation = [("Accept", "text/html"), ("Sec-Fetch-Mode", "navigate")]
        let start = try await send(loginURL, headers: navigation)
        guard (300..<400).contains(start.status), let authorize = Self.resolve(start.location, against: loginURL) else {
            throw TestSignInError("the app's login route answered \(start.status), not a redirect to the provider")
        }
        guard authorize.hasPrefix(issuer + "/"), let authorizeURL = URL(string: authorize) else {
            throw TestSignInError("the app's login route redirects to \(authorize), not to \(issuer)")
        }
        let callback: URL
        do {
            callback = try await signIn(at: authorizeURL, username: user.username, password: user.password)
        } catch let failure as Failure {
            throw TestSignInError("the provider refused the sign-in: \(failure.description)")
        }
        let reply = try await send(callback.absoluteString, headers: navigation)
        guard reply.status < 400 else {
            throw TestSignInError("the app's callback answered \(reply.status): \(reply.body.prefix(200))")
        }
        return TestSignIn(
            cookies: cookies, location: Self.resolve(reply.location, against: callback.absoluteString),
            callbackStatus: reply.status)
    }

    private static func resolve(_ location: String?, against base: String) -> String? {
        location.flatMap { URL(string: $0, relativeTo: URL(string: base))?.absoluteString }
    }
}
