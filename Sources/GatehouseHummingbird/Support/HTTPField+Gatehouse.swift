public import Hummingbird

extension HTTPFields.Element.Name {
    // Each literal below is a valid field name, so the initialiser cannot fail.

    /// The identity headers sent upstream (DESIGN §2); stripped from every client request.
    public static let forwardedUser = Self("X-Forwarded-User")!
    public static let forwardedEmail = Self("X-Forwarded-Email")!
    public static let forwardedPreferredUsername = Self("X-Forwarded-Preferred-Username")!
    public static let forwardedGroups = Self("X-Forwarded-Groups")!
    /// The id of the provider a session came from (`default` with one provider).
    public static let forwardedProvider = Self("X-Forwarded-Provider")!

    /// Fetch metadata (W3C Fetch Metadata Request Headers).
    public static let secFetchMode = Self("Sec-Fetch-Mode")!
    public static let secFetchSite = Self("Sec-Fetch-Site")!

    public static let referrerPolicy = Self("Referrer-Policy")!
    public static let xFrameOptions = Self("X-Frame-Options")!

    /// The five identity headers.
    public static let identityHeaders: [Self] = [
        .forwardedUser, .forwardedEmail, .forwardedPreferredUsername, .forwardedGroups, .forwardedProvider,
    ]
}
