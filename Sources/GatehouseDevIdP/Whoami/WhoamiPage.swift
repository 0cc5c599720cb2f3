import Foundation
import Hummingbird

/// The whoami HTML page.
struct WhoamiPage: Sendable {
    var whoami: Whoami
    var path: String

    func response() -> Response {
        let escape = HTMLPage.escape
        let name = whoami.headers["X-Forwarded-Preferred-Username"] ?? whoami.headers["X-Forwarded-User"]
        var body = "<p>" + (name.map { "Hello, <strong>\(escape($0))</strong>." } ?? "No identity arrived with this request.")
        body += " This page is the demo's upstream application, behind the gateway; it shows what the gateway sent it"
        body += " for <code>\(escape(path))</code>.</p>"
        body += "<h2>Identity headers</h2><table><tbody>"
        for header in Whoami.identityHeaders {
            let value = whoami.headers[header].map { "<code>\(escape($0))</code>" } ?? "<em>absent</em>"
            body += "<tr><th scope=\"row\"><code>\(header)</code></th><td>\(value)</td></tr>"
        }
        body += "</tbody></table>"
        body += "<h2>Access token</h2>"
        if let claims = whoami.accessTokenClaims {
            body += "<p class=\"hint\">Decoded for display, not verified by this page.</p><table><tbody>"
            for key in claims.keys.sorted() {
                body += "<tr><th scope=\"row\"><code>\(escape(key))</code></th><td>\(escape(describe(key, claims[key])))</td></tr>"
            }
            body += "</tbody></table>"
        } else {
            body += whoami.hasAccessToken ? "<p>An access token arrived but is not a JWT.</p>" : "<p>None was sent.</p>"
        }
        body += "<form method=\"post\" action=\"/oauth2/sign_out\"><div class=\"actions\">"
        body += "<button class=\"primary\" type=\"submit\">Sign out</button>"
        body += "<a href=\"\(escape(path))\">Reload</a></div></form>"
        return HTMLPage(title: "Who am I?", bodyHTML: body, banner: "Gatehouse demo application (development only)")
            .response()
    }

    /// A claim for display; time claims also say how far away they are.
    private func describe(_ key: String, _ value: ClaimValue?) -> String {
        guard let value else { return "" }
        if ["exp", "iat", "auth_time", "nbf"].contains(key), case .number(let seconds) = value {
            let date = Date(timeIntervalSince1970: seconds)
            let delta = Int(date.timeIntervalSinceNow.rounded())
            let relative = delta >= 0 ? "in \(delta) s" : "\(-delta) s ago"
            return "\(value) (\(ISO8601DateFormatter().string(from: date)), \(relative))"
        }
        return value.description
    }
}
