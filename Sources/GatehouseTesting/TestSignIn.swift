import Foundation

/// A browser signed in to an app by ``TestIdentityProvider/signIn(as:startingAt:)``.
public struct TestSignIn: Sendable {
    /// Every cookie the browser holds, by name (the app's session cookie among them).
    public var cookies: [String: String]
    /// Where the app sent the browser after the callback (the return path), if anywhere.
    public var location: String?
    /// The callback's status (a redirect when the login succeeded).
    public var callbackStatus: Int

    /// The `Cookie` field a request from this browser carries.
    public var cookieHeader: String {
        cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
    }
}

/// A sign-in that did not go as a browser's would (the step and what was seen).
public struct TestSignInError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
