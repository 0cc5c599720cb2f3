import Hummingbird

/// The login form: username, password, "Sign in" and "Cancel" (which answers the client
/// `access_denied`).
struct LoginPage: Sendable {
    var interactionID: String
    var clientID: String
    /// Test users shown with their passwords (a development convenience), or none.
    var users: [TestUser]
    /// A message shown above the form (announced by screen readers).
    var error: String?
    /// The username typed before a failed attempt.
    var username: String?
    /// Ask for the one-time code too (`acr_values=mfa`).
    var asksCode = false

    func response(setCookie: String?, status: HTTPResponse.Status = .ok) -> Response {
        let escape = HTMLPage.escape
        var body = "<p>Sign in to continue to <strong>\(escape(clientID))</strong>.</p>"
        if let error {
            body += "<p class=\"error\" role=\"alert\" id=\"form-error\">\(escape(error))</p>"
        }
        let describedBy = error == nil ? "" : " aria-describedby=\"form-error\""
        body += "<form method=\"post\" action=\"/authorize\">"
        body += "<input type=\"hidden\" name=\"interaction\" value=\"\(escape(interactionID))\">"
        body += "<label for=\"username\">Username</label>"
        body += "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" "
        body += "spellcheck=\"false\" required autofocus value=\"\(escape(username ?? ""))\"\(describedBy)>"
        body += "<label for=\"password\">Password</label>"
        body += "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required\(describedBy)>"
        if asksCode {
            body += "<label for=\"code\">One-time code</label>"
            body += "<input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
            body += "required aria-describedby=\"code-hint\">"
            body += "<p class=\"hint\" id=\"code-hint\">This application asks for a second factor. "
            body += "The development code is <code>\(AuthenticationLevel.developmentCode)</code>.</p>"
        }
        body += "<div class=\"actions\">"
        body += "<button class=\"primary\" type=\"submit\" name=\"action\" value=\"login\">Sign in</button>"
        body += "<button class=\"secondary\" type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button>"
        body += "</div></form>"
        if !users.isEmpty {
            body += "<h2 class=\"hint\">Test users</h2><ul class=\"hint\">"
            for user in users {
                body += "<li><code>\(escape(user.username))</code> / <code>\(escape(user.password))</code>"
                if let name = user.name { body += " — \(escape(name))" }
                if !user.groups.isEmpty { body += " (groups: \(escape(user.groups.joined(separator: ", "))))" }
                body += "</li>"
            }
            body += "</ul>"
        }
        var headers = HTTPFields()
        if let setCookie { headers.append(HTTPFields.Element(name: .setCookie, value: setCookie)) }
        return HTMLPage(title: "Sign in", bodyHTML: body, status: status).response(extraHeaders: headers)
    }
}
