public import Foundation
public import GatehouseOAuth

/// What a login must satisfy beyond a valid ID token, sealed with its pending authorization
/// (so that nobody with write access to the store can relax it): the authentication level and
/// age a route asked for (step-up), the subject a step-up must come back as, and whether the
/// front end asked for a silent login.
public struct LoginConditions: Sendable, Equatable {
    /// `acr_values` asked for: the ID token's `acr` must be one of them (empty: any).
    public var acrValues: [String]
    /// `max_age` in seconds: the ID token's `auth_time` must be at most this old.
    public var maxAge: Int?
    /// A step-up of this subject's session: another `sub` ends it and creates nothing.
    public var subject: String?
    /// `prompt=none`: the outcome goes to the front end's frame, not to a page.
    public var silent: Bool

    public init(acrValues: [String] = [], maxAge: Int? = nil, subject: String? = nil, silent: Bool = false) {
        self.acrValues = acrValues
        self.maxAge = maxAge
        self.subject = subject
        self.silent = silent
    }

    /// Nothing beyond a valid login.
    public var isEmpty: Bool { acrValues.isEmpty && maxAge == nil && subject == nil && !silent }

    /// Whether `identity` meets ``acrValues`` and ``maxAge`` at `now`, `auth_time` allowed
    /// `clockSkew` seconds of drift.
    public func isSatisfied(by identity: Identity, now: Date, clockSkew: TimeInterval = 0) -> Bool {
        if !acrValues.isEmpty, !acrValues.contains(identity.acr ?? "") { return false }
        if let maxAge {
            guard let authTime = identity.authTime, now.timeIntervalSince(authTime) <= Double(maxAge) + clockSkew else {
                return false
            }
        }
        return true
    }
}
