import Foundation
import Hummingbird

/// The end of a silent login (`/oauth2/start?prompt=none`): instead of a redirect or an error
/// page, a page the front end frames from its own origin and reads. The outcome is a JSON data
/// block, `<script type="application/json" id="gatehouse-silent-login">{"is_logged_in": true}</script>`
/// (`{"is_logged_in": false, "error": "login_required"}`), which no browser executes, so the
/// pages' CSP stays script-free; only the gateway's own origin may frame it.
struct SilentLoginPage {
    var isLoggedIn: Bool
    /// The IdP's or the gateway's error code (`login_required`, `consent_required`…).
    var error: String?

    struct Outcome: Encodable {
        var isLoggedIn: Bool
        var error: String?

        enum CodingKeys: String, CodingKey {
            case isLoggedIn = "is_logged_in"
            case error
        }
    }

    func response() -> Response {
        var page = Page(
            status: .ok, title: "Silent sign-in",
            message: isLoggedIn ? "Signed in." : "Not signed in (\(error ?? "login_required")).")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(Outcome(isLoggedIn: isLoggedIn, error: error))).map { String(decoding: $0, as: UTF8.self) }
        // JSON text cannot end the element early: `<` is escaped.
        let data = (json ?? "{}").replacingOccurrences(of: "<", with: "\\u003c")
        page.extraHTML = "<script type=\"application/json\" id=\"gatehouse-silent-login\">\(data)</script>"
        var response = page.response()
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'"
        response.headers[.xFrameOptions] = "SAMEORIGIN"
        return response
    }
}
