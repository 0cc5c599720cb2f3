public import GatehouseOAuth

/// An identity provider users may sign in with: its id (in its callback path, in the sessions
/// it creates and in `X-Forwarded-Provider`), the name shown on the chooser page, and the
/// OAuth client for it.
///
/// Each provider has its own redirect URI, ``callbackPath`` under the public URL, and a login
/// is bound to the provider it started with: a callback on another provider's path, an `iss`
/// or an ID token from another issuer is refused (mix-up defence, RFC 9700 §4.4).
public struct LoginProvider: Sendable {
    /// The id of an application's only provider (the gateway's environment variables); its
    /// callback keeps the path `/oauth2/callback`.
    public static let defaultID = "default"

    /// `[a-z0-9-]+`, unique among an application's providers.
    public let id: String
    /// Shown to users on the chooser page.
    public let name: String
    public let client: OAuthClient
    /// Added to every authorization request of this provider (`prompt`, `hd`, `login_hint`…).
    public let authorizationParameters: AuthorizationParameters

    /// - Throws: ``LoginProviderError`` when `id` is not `[a-z0-9-]+` or the client's
    ///   redirect URI does not end with ``callbackPath(for:)``.
    public init(
        id: String, name: String, client: OAuthClient,
        authorizationParameters: AuthorizationParameters = AuthorizationParameters()
    ) throws(LoginProviderError) {
        guard Self.isValidID(id) else {
            throw LoginProviderError("provider id \"\(id)\" must be lower-case letters, digits and -")
        }
        let path = Self.callbackPath(for: id)
        guard client.configuration.redirectURI.hasSuffix(path) else {
            throw LoginProviderError(
                "provider \(id): its redirect URI must end with \(path) (each provider has its own)")
        }
        self.id = id
        self.name = name
        self.client = client
        self.authorizationParameters = authorizationParameters
    }

    /// For an application's only provider, whose client was built before providers had ids.
    init(unchecked id: String, name: String, client: OAuthClient) {
        self.id = id
        self.name = name
        self.client = client
        self.authorizationParameters = AuthorizationParameters()
    }

    /// The callback path of provider `id`: `/oauth2/callback/{id}`, `/oauth2/callback` for
    /// ``defaultID``.
    public static func callbackPath(for id: String) -> String {
        id == defaultID ? "/oauth2/callback" : "/oauth2/callback/" + id
    }

    /// This provider's callback path.
    public var callbackPath: String { Self.callbackPath(for: id) }

    /// Whether `id` is a valid provider id: `[a-z0-9-]+`.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        }
    }
}

/// A provider list that cannot be used: a bad or duplicate id, a redirect URI on the wrong path.
public struct LoginProviderError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
