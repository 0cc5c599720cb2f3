/// What a login for a return path must achieve: which providers may perform it and, for
/// step-up, the authentication level and age the page behind it asks for. The gateway answers
/// with the route the path leads to (``AuthService/RequirementsPolicy``).
public struct LoginRequirements: Sendable, Equatable {
    /// The provider ids allowed; `nil`: every one.
    public var providers: [String]?
    /// `acr_values` to ask for; the ID token's `acr` must be one of them (empty: any).
    public var acrValues: [String]
    /// `max_age` in seconds: the ID token's `auth_time` must be at most this old.
    public var maxAge: Int?

    public init(providers: [String]? = nil, acrValues: [String] = [], maxAge: Int? = nil) {
        self.providers = providers
        self.acrValues = acrValues
        self.maxAge = maxAge
    }

    /// No requirement: any provider, any level.
    public static let none = LoginRequirements()
}
