import Foundation
import Hummingbird

/// Detects a browser caught in a sign-in loop (DESIGN §3: "a redirect loop is detected and
/// shown as a diagnostic page instead of looping").
///
/// A loop is a browser sent to `/oauth2/start` over and over: the sign-in completes, but the
/// next request again finds no usable session (the application behind the gateway answers a
/// signed-in user by sending it back to sign in, sessions end at once, …). Each start counts
/// in a small cookie, `<count>.<window start, Unix seconds>`; when a browser reaches
/// ``AuthSettings/loopThreshold`` starts within ``AuthSettings/loopWindow``, `/oauth2/start`
/// answers with a diagnostic page instead of another trip to the IdP, and the count starts
/// over. The cookie holds no secret: a forged value can only show that page early or late.
struct LoginLoopGuard {
    /// Starts counted in the current window, including this one.
    let count: Int
    /// When the current window began.
    let windowStart: Int

    /// The state after one more start at `now`, given the browser's cookie value (a missing,
    /// malformed or expired value starts a new window).
    init(cookieValue: String?, now: Date, window: Duration) {
        let nowSeconds = Int(now.timeIntervalSince1970)
        let windowSeconds = Int(window.components.seconds)
        if let value = cookieValue, let parsed = Self.parse(value),
            parsed.windowStart <= nowSeconds, nowSeconds - parsed.windowStart < windowSeconds
        {
            self.count = parsed.count + 1
            self.windowStart = parsed.windowStart
        } else {
            self.count = 1
            self.windowStart = nowSeconds
        }
    }

    var cookieValue: String { "\(count).\(windowStart)" }

    /// Seconds left in the window at `now` (the cookie's `Max-Age`), at least 1.
    func secondsLeft(now: Date, window: Duration) -> Int {
        max(1, windowStart + Int(window.components.seconds) - Int(now.timeIntervalSince1970))
    }

    private static func parse(_ value: String) -> (count: Int, windowStart: Int)? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 12 && $0.allSatisfy(\.isASCIIDigit) }),
            let count = Int(parts[0]), let start = Int(parts[1])
        else { return nil }
        return (count, start)
    }

    /// The diagnostic page: what is happening, the usual causes, and a way to try again.
    static func page(count: Int, returnPath: String) -> Page {
        var page = Page(
            status: .init(code: 508, reasonPhrase: "Loop Detected"), title: "Sign-in keeps restarting",
            message: "This browser was sent to sign in \(count) times in a short time, and each time the "
                + "sign-in did not hold, so Gatehouse stopped the loop. Usual causes: the browser does not keep "
                + "cookies for this site (private mode or a blocking extension); the application behind the "
                + "gateway sends signed-in users back to sign in (for example, it rejects the identity it is "
                + "given); or the gateway's clock or session settings end new sessions at once. If it happens "
                + "again, tell the site's administrator the time and the error code below.",
            category: "redirect_loop")
        page.link = (LoginChallenge.startPath(returnPath: returnPath), "Try again")
        return page
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
