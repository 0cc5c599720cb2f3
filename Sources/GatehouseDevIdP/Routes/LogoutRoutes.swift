import Foundation
import Hummingbird

/// RP-Initiated Logout 1.0: `GET`/`POST /end_session` with `id_token_hint`, `client_id`,
/// `post_logout_redirect_uri` (exactly one of the client's registered ones) and `state`.
/// With a valid hint the session ends at once; without one the user confirms (§2: the OP
/// should ask, so that a cross-site link cannot sign anyone out).
struct LogoutRoutes: Sendable {
    let idp: IdentityProvider

    func register(on router: Router<IdPRequestContext>) {
        router.get("/end_session") { request, _ in
            guard let query = request.queryForm else { return invalid("The parameters are not valid URL encoding.") }
            return await endSession(query, request: request, confirmed: false)
        }
        router.post("/end_session") { request, _ in
            guard let form = try await request.formBody() else { return invalid("The form is not valid.") }
            return await endSession(form, request: request, confirmed: form["confirm"] == "yes" || form.values.isEmpty)
        }
    }

    func endSession(_ parameters: FormData, request: Request, confirmed: Bool) async -> Response {
        if let name = parameters.repeated.sorted().first { return invalid("The parameter \(name) appears more than once.") }
        var hint: TokenClaims?
        if let token = parameters["id_token_hint"] {
            // §2: an expired hint is fine (our TokenClaims.verify checks no time); a foreign one is not.
            guard let claims = try? await idp.keys.verify(token, as: TokenClaims.self), claims.issuer == idp.issuer else {
                return invalid("The id_token_hint was not issued by this IdP.")
            }
            hint = claims
        }
        if let clientID = parameters["client_id"], let hint, hint.audience != clientID {
            return invalid("The client_id does not match the id_token_hint.")
        }
        let clientID = hint?.audience ?? parameters["client_id"]
        let redirect = parameters["post_logout_redirect_uri"]
        if let redirect {
            guard let clientID, let client = idp.client(clientID), client.postLogoutRedirectURIs.contains(redirect) else {
                return invalid("The post_logout_redirect_uri is not registered for this client (or no client was named).")
            }
        }
        let cookieSession = await idp.state.session(cookie: request.cookie(AuthorizeRoutes.sessionCookie), now: idp.now)
        guard hint != nil || confirmed else {
            return confirmation(parameters, clientID: clientID, signedIn: cookieSession != nil)
        }
        let sessionID = hint?.sessionID ?? cookieSession?.sessionID
        var frames: [String] = []
        if let sessionID, let ended = await idp.endedSession(id: sessionID) {
            frames = idp.frontchannelLogoutURLs(for: ended)
        }
        let cookies = [Responses.deleteCookie(AuthorizeRoutes.sessionCookie)]
        let afterPost = request.method == .post
        let next = redirect.map { FormData.url($0, adding: [("state", parameters["state"])]) }
        if !frames.isEmpty {
            return frontchannelPage(frames, next: next, cookies: cookies)
        }
        if let redirect {
            return Responses.redirect(
                FormData.url(redirect, adding: [("state", parameters["state"])]), afterPost: afterPost, cookies: cookies)
        }
        var headers = HTTPFields()
        for cookie in cookies { headers.append(HTTPFields.Element(name: .setCookie, value: cookie)) }
        return HTMLPage(title: "Signed out", bodyHTML: "<p>You are signed out of the development IdP.</p>")
            .response(extraHeaders: headers)
    }

    /// The signed-out page framing each client's front-channel logout URL (§3: the RPs end
    /// their sessions in the frames); then, after two seconds, on to `next` (no script needed).
    private func frontchannelPage(_ frames: [String], next: String?, cookies: [String]) -> Response {
        let escape = HTMLPage.escape
        var body = "<p>You are signed out of the development IdP.</p>"
        for frame in frames {
            body += "<iframe src=\"\(escape(frame))\" title=\"Signing out\" width=\"1\" height=\"1\" hidden></iframe>"
        }
        if let next {
            body += "<meta http-equiv=\"refresh\" content=\"2;url=\(escape(next))\">"
            body += "<p><a href=\"\(escape(next))\">Continue</a></p>"
        }
        var headers = HTTPFields()
        for cookie in cookies { headers.append(HTTPFields.Element(name: .setCookie, value: cookie)) }
        var response = HTMLPage(title: "Signed out", bodyHTML: body).response(extraHeaders: headers)
        // The frames' origins only.
        let origins = Set(frames.compactMap { URL(string: $0).flatMap(Self.origin) }).sorted()
        let policy = response.headers[.contentSecurityPolicy] ?? "default-src 'none'"
        response.headers[.contentSecurityPolicy] = policy + "; frame-src " + origins.joined(separator: " ")
        return response
    }

    /// `scheme://host[:port]` of `url`.
    static func origin(_ url: URL) -> String? {
        guard let scheme = url.scheme, let host = url.host else { return nil }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }

    /// "Sign out of the IdP?" with a button that POSTs the same parameters back.
    private func confirmation(_ parameters: FormData, clientID: String?, signedIn: Bool) -> Response {
        let escape = HTMLPage.escape
        var body = signedIn ? "<p>Do you want to sign out of the development IdP" : "<p>You are not signed in here. Continue"
        if let clientID { body += " (requested by <strong>\(escape(clientID))</strong>)" }
        body += "?</p><form method=\"post\" action=\"/end_session\">"
        body += "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
        for name in ["client_id", "post_logout_redirect_uri", "state"] {
            if let value = parameters[name] {
                body += "<input type=\"hidden\" name=\"\(name)\" value=\"\(escape(value))\">"
            }
        }
        body += "<div class=\"actions\"><button class=\"primary\" type=\"submit\">\(signedIn ? "Sign out" : "Continue")</button>"
        body += "</div></form>"
        return HTMLPage(title: "Sign out", bodyHTML: body).response()
    }

    private func invalid(_ message: String) -> Response {
        HTMLPage.message("Cannot sign out", message, status: .badRequest)
    }
}
