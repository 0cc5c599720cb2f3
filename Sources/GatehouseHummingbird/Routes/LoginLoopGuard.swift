import Foundation
import Hummingbird

/// Detects a browser caught in a sign-in loop (DESIGN §3: "a redirect loop is detected and
/// shown as a diagnostic page instead of looping").
///
/// A loop is a sign-in that completes and then bounces straight back to `/oauth2/start`, over
/// and over: the application behind the gateway answers a signed-in user by sending it back
/// to sign in, sessions end at once, … Parallel starts are not a loop (a browser restoring
/// thirty tabs starts thirty logins at once), so starts alone never count: the callback
/// records each completed sign-in in a small cookie, and a start that follows one within
/// ``AuthSettings/loopBounceInterval`` counts one bounce (each completion at most once).
/// When a browser reaches ``AuthSettings/loopThreshold`` bounces within
/// ``AuthSettings/loopWindow``, `/oauth2/start` answers with a diagnostic page instead of
/// another trip to the IdP, and the count starts over.
///
/// The cookie is `<bounces>.<window start>.<last completed sign-in or 0>` (Unix seconds). It
/// holds no secret: a forged value can only show that page early or late.
struct LoginLoopGuard: Equatable {
    /// Bounces counted in the current window.
    private(set) var bounces: Int
    /// When the current window began.
    private(set) var windowStart: Int
    /// When this browser last completed a sign-in not yet followed by a start.
    private(set) var completedAt: Int?

    /// The state a browser's cookie value describes at `now` (a missing, malformed or expired
    /// value starts a new window; a completion is remembered across windows).
    init(cookieValue: String?, now: Date, window: Duration) {
        let nowSeconds = Int(now.timeIntervalSince1970)
        let parsed = cookieValue.flatMap(Self.parse)
        if let parsed, parsed.windowStart <= nowSeconds, nowSeconds - parsed.windowStart < Int(window.components.seconds) {
            bounces = parsed.bounces
            windowStart = parsed.windowStart
        } else {
            bounces = 0
            windowStart = nowSeconds
        }
        completedAt = parsed?.completedAt.flatMap { $0 > 0 && $0 <= nowSeconds ? $0 : nil }
    }

    /// A start at `now`: whether it bounced straight back from a completed sign-in (then it
    /// counts, and uses that completion up).
    mutating func recordStart(now: Date, bounceInterval: Duration) -> Bool {
        guard let completedAt, Int(now.timeIntervalSince1970) - completedAt <= Int(bounceInterval.components.seconds)
        else { return false }
        bounces += 1
        self.completedAt = nil
        return true
    }

    /// A sign-in completed at `now`.
    mutating func recordCompletion(now: Date) {
        completedAt = Int(now.timeIntervalSince1970)
    }

    var cookieValue: String { "\(bounces).\(windowStart).\(completedAt ?? 0)" }

    /// Seconds left in the window at `now` (the cookie's `Max-Age`), at least 1.
    func secondsLeft(now: Date, window: Duration) -> Int {
        max(1, windowStart + Int(window.components.seconds) - Int(now.timeIntervalSince1970))
    }

    private static func parse(_ value: String) -> (bounces: Int, windowStart: Int, completedAt: Int?)? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 12 && $0.allSatisfy(\.isASCIIDigit) }),
            let bounces = Int(parts[0]), let start = Int(parts[1]), let completed = Int(parts[2])
        else { return nil }
        return (bounces, start, completed == 0 ? nil : completed)
    }

    /// The diagnostic page: what is happening, the usual causes, and a way to try again.
    static func page(bounces: Int, returnPath: String) -> Page {
        var page = Page(
            status: .init(code: 508, reasonPhrase: "Loop Detected"), title: "Sign-in keeps restarting",
            message: "This browser signed in \(bounces) times in a short time and was each time sent straight "
                + "back to sign in, so Gatehouse stopped the loop. Usual causes: the application behind the "
                + "gateway sends signed-in users back to sign in (for example, it rejects the identity it is "
                + "given); the browser does not keep cookies for this site (private mode or a blocking "
                + "extension); or the gateway's clock or session settings end new sessions at once. If it happens "
                + "again, tell the site's administrator the time and the error code below.",
            category: "redirect_loop")
        page.link = (LoginChallenge.startPath(returnPath: returnPath), "Try again")
        return page
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
