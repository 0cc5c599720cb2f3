import Foundation
import Hummingbird

/// The authorization endpoint: `GET /authorize` validates the request and shows the login
/// form (or answers at once for a browser already signed in here); `POST /authorize` signs
/// in or cancels. Every answer to the client carries `state` and RFC 9207 `iss`.
struct AuthorizeRoutes: Sendable {
    /// The IdP session cookie (its SSO session).
    static let sessionCookie = "devidp-session"
    /// Binds a login form to the browser that opened it (login CSRF).
    static let bindingCookie = "devidp-login"

    /// One binding cookie per sign-in form, so two tabs can sign in at the same time.
    static func bindingCookieName(_ interactionID: String) -> String {
        bindingCookie + "-" + String(interactionID.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(16))
    }
    /// How long a login form stays valid.
    static let formLifetime: Duration = .seconds(600)

    let idp: IdentityProvider

    func register(on router: Router<IdPRequestContext>) {
        router.get("/authorize") { request, _ in await start(request) }
        router.post("/authorize") { request, _ in try await submit(request) }
    }

    /// `GET /authorize`.
    func start(_ request: Request) async -> Response {
        guard let query = request.queryForm else {
            return HTMLPage.message("Invalid request", "The request's parameters are not valid URL encoding.", status: .badRequest)
        }
        let authorization: AuthorizationRequest
        if let requestURI = query["request_uri"] {
            // RFC 9126 §4: the pushed request, once, for the client that pushed it; nothing
            // else in the query counts.
            guard let clientID = query["client_id"], !query.repeated.contains("request_uri"),
                let pushed = await idp.state.takePushed(requestURI, now: idp.now), pushed.clientID == clientID
            else {
                return HTMLPage.message(
                    "Invalid request", "This sign-in request has expired, was already used, or belongs to another application.",
                    status: .badRequest)
            }
            authorization = pushed
        } else {
            if let clientID = query["client_id"], idp.client(clientID)?.requirePushedAuthorizationRequests == true {
                return HTMLPage.message(
                    "Invalid request", "This application must push its authorization requests (RFC 9126).",
                    status: .badRequest)
            }
            var parameters = query
            if let jwt = query["request"] {
                // RFC 9101: the signed parameters replace the query's.
                switch await RequestObject.open(jwt, clientID: query["client_id"], idp: idp) {
                case .success(let opened): parameters = opened
                case .failure(let refusal): return HTMLPage.message("Invalid request", refusal.message + ".", status: .badRequest)
                }
            }
            switch AuthorizationValidation.validate(parameters, client: idp.client) {
            case .failure(.page(let message)):
                return HTMLPage.message("Invalid request", message, status: .badRequest)
            case .failure(.redirect(let redirectURI, let state, let error, let description)):
                return answer(redirectURI: redirectURI, state: state, [("error", error), ("error_description", description)])
            case .success(let valid):
                authorization = valid
            }
        }
        let now = idp.now
        if !authorization.forceLogin, let session = await idp.state.session(cookie: request.cookie(Self.sessionCookie), now: now),
            Self.satisfies(session, authorization, now: now)
        {
            // Already signed in here, recently and strongly enough: single sign-on, no form.
            return await issueCode(authorization, session: session, afterPost: false)
        }
        if authorization.silent {
            return answer(
                redirectURI: authorization.redirectURI, state: authorization.state,
                [("error", "login_required"), ("error_description", "the user is not signed in at the IdP")])
        }
        let (id, binding) = await idp.state.startInteraction(authorization, lifetime: Self.formLifetime, now: now)
        var page = LoginPage(interactionID: id, clientID: authorization.clientID, users: shownUsers, error: nil)
        page.asksCode = authorization.wantsMFA
        return page.response(
            setCookie: Responses.cookie(Self.bindingCookieName(id), binding, path: "/authorize", maxAge: Self.formLifetime))
    }

    /// `POST /authorize`: `action=login` with `username` and `password`, or `action=cancel`.
    func submit(_ request: Request) async throws -> Response {
        let expired = HTMLPage.message(
            "Sign-in expired",
            "This sign-in form is no longer valid (it expired, was used already, or was opened in another browser). "
                + "Go back to the application and sign in again.", status: .badRequest)
        guard let form = try await request.formBody(), let id = form["interaction"] else { return expired }
        let now = idp.now
        guard let interaction = await idp.state.interaction(id, binding: request.cookie(Self.bindingCookieName(id)), now: now)
        else { return expired }
        let authorization = interaction.request
        if form["action"] == "cancel" {
            await idp.state.finishInteraction(id)
            return answer(
                redirectURI: authorization.redirectURI, state: authorization.state,
                [("error", "access_denied"), ("error_description", "the user cancelled the sign-in")], afterPost: true,
                cookies: [Responses.deleteCookie(Self.bindingCookieName(id), path: "/authorize")])
        }
        guard let username = form["username"], let password = form["password"], let user = idp.users[username],
            Hash.constantTimeEqual(user.password, password),
            !authorization.wantsMFA || Hash.constantTimeEqual(form["code"] ?? "", AuthenticationLevel.developmentCode)
        else {
            idp.logger.info("sign-in failed", metadata: ["client": "\(authorization.clientID)"])
            var page = LoginPage(
                interactionID: id, clientID: authorization.clientID, users: shownUsers,
                error: authorization.wantsMFA ? "Wrong username, password or code." : "Wrong username or password.")
            page.username = form["username"]
            page.asksCode = authorization.wantsMFA
            return page.response(setCookie: nil, status: .unauthorized)
        }
        await idp.state.finishInteraction(id)
        let (cookie, session) = await idp.state.signIn(
            subject: user.subject, lifetime: idp.configuration.sessionLifetime, now: now,
            acr: authorization.wantsMFA ? AuthenticationLevel.mfa : AuthenticationLevel.password)
        idp.logger.info("signed in", metadata: ["sub": "\(user.subject)", "client": "\(authorization.clientID)"])
        return await issueCode(
            authorization, session: session, afterPost: true,
            cookies: [
                Responses.cookie(Self.sessionCookie, cookie, maxAge: idp.configuration.sessionLifetime),
                Responses.deleteCookie(Self.bindingCookieName(id), path: "/authorize"),
            ])
    }

    /// Issues a code and sends the browser back with `code`, `state` and `iss`.
    private func issueCode(
        _ request: AuthorizationRequest, session: LoginSession, afterPost: Bool, cookies: [String] = []
    ) async -> Response {
        let code = await idp.state.issueCode(
            for: request, session: session, lifetime: idp.configuration.codeLifetime, now: idp.now)
        return answer(
            redirectURI: request.redirectURI, state: request.state, [("code", code)], afterPost: afterPost,
            cookies: cookies)
    }

    /// An authorization response: the redirect URI with `parameters`, `state` (when the client
    /// sent one) and `iss` (RFC 9207 §2, on success and on error alike).
    private func answer(
        redirectURI: String, state: String?, _ parameters: [(String, String?)], afterPost: Bool = false,
        cookies: [String] = []
    ) -> Response {
        let location = FormData.url(redirectURI, adding: parameters + [("state", state), ("iss", idp.issuer)])
        return Responses.redirect(location, afterPost: afterPost, cookies: cookies)
    }

    /// Whether an IdP session may answer `request` without a form: authenticated within its
    /// `max_age`, and with the one-time code when it asks for `mfa`.
    static func satisfies(_ session: LoginSession, _ request: AuthorizationRequest, now: Date) -> Bool {
        if let maxAge = request.maxAge, now.timeIntervalSince(session.authTime) > Double(maxAge) { return false }
        return !request.wantsMFA || session.acr == AuthenticationLevel.mfa
    }

    /// The users listed on the login page (`[]` when hidden).
    private var shownUsers: [TestUser] {
        idp.configuration.showTestUsers ? idp.configuration.users : []
    }
}
