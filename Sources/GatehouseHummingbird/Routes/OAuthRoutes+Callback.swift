import Foundation
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Logging

extension OAuthRoutes {
    /// `GET /oauth2/callback[/{provider}]`: check this browser's binding cookie and consume the
    /// pending authorization in one step (single use; a wrong binding consumes nothing, DESIGN
    /// §1), check that it was started with the provider whose callback this is (mix-up
    /// defence, RFC 9700 §4.4), exchange the code with that provider and validate its ID token
    /// (its `iss`, RFC 9207 `iss` of the response), apply the access rules, then create a
    /// session under a new id and return to the saved path.
    func callback(_ request: Request, context: Context, providerID: String) async -> Response {
        let parameters: CallbackParameters
        do {
            parameters = try CallbackParameters(query: Substring(request.uri.query ?? ""))
        } catch {
            AuthMetrics.login(.failed)
            return Self.page(Self.loginFailed(.badRequest, category: error.code.rawValue))
        }
        guard let state = parameters.state, !state.isEmpty else {
            AuthMetrics.login(.unknownState)
            return Self.page(Self.loginFailed(.badRequest, category: "missing_state"))
        }
        let bindingName = auth.cookies.bindingName(forState: state)
        let clearBinding = auth.cookies.clearBinding(name: bindingName)
        let consumption: PendingConsumption
        do {
            consumption = try await auth.store.consumePending(
                state: state, bindingValue: request.cookies[bindingName]?.value)
        } catch {
            auth.logger.error("cannot read a pending login", metadata: ["error": "\(AuthService.errorCode(error))"])
            return Self.storeUnavailable
        }
        let stored: StoredPending
        switch consumption {
        case .consumed(let pending):
            stored = pending
            auth.loginLimiter.ended(key: PendingLoginLimiter.key(stateHashPrefix: SessionHash(of: state).bytes))
        case .unknown:
            // Unknown, expired or already used (a replayed callback): RFC 6749 §10.12.
            AuthMetrics.login(.unknownState)
            var page = Self.loginFailed(.badRequest, category: "unknown_state")
            page.message = "This sign-in link has expired or was already used."
            return Self.page(page, cookies: [clearBinding])
        case .bindingMismatch:
            // Left in place: the browser that started it can still finish it.
            auth.logger.notice("callback without this browser's binding cookie (login CSRF or another browser)")
            AuthMetrics.login(.bindingMismatch)
            var page = Self.loginFailed(.badRequest, category: "browser_binding_mismatch")
            page.message = "This sign-in was started in another browser or has expired. Please start again."
            return Self.page(page, cookies: [clearBinding])
        }
        guard stored.provider == providerID, let provider = auth.provider(id: providerID),
            stored.pending.redirectURI == provider.client.configuration.redirectURI
        else {
            // Started with one provider, answered on another's callback: a mix-up attempt (or
            // a provider removed from the configuration during the login). Nothing is sent to
            // any token endpoint.
            auth.logger.warning(
                "callback on another provider's redirect URI refused (mix-up defence)",
                metadata: ["callback_provider": "\(providerID)", "login_provider": "\(stored.provider)"])
            AuthMetrics.login(.failed)
            var page = Self.loginFailed(.badRequest, category: "provider_mismatch", returnPath: stored.returnPath)
            page.message = "This sign-in came back from a different identity provider than it was started with."
            return Self.page(page, cookies: [clearBinding])
        }
        let conditions = stored.conditions
        let result: LoginResult
        do {
            result = try await provider.client.exchange(parameters, pending: stored.pending)
        } catch where conditions.silent {
            // prompt=none: the front end learns why (login_required…) from the frame it reads.
            auth.logger.info("silent login did not sign in", metadata: ["error": "\(error.code)", "provider": "\(provider.id)"])
            AuthMetrics.login(.failed)
            let code = error.response?.error ?? error.code.rawValue
            return Self.page(SilentLoginPage(isLoggedIn: false, error: code).response(), cookies: [clearBinding])
        } catch {
            auth.logger.notice(
                "login failed",
                metadata: [
                    "error": "\(error.code)", "http_status": "\(error.httpStatus ?? 0)", "provider": "\(provider.id)",
                ])
            AuthMetrics.login(.failed)
            let page = Self.loginFailed(
                Self.status(for: error.code), category: error.code.rawValue, returnPath: stored.returnPath)
            return Self.page(page, cookies: [clearBinding])
        }
        if let subject = conditions.subject, result.identity.subject != subject {
            // A step-up must come back as the person who asked for it: someone else at the IdP
            // (a shared computer) ends the old session and starts nothing.
            await discardPreviousSession(request)
            auth.logger.warning("step-up came back as another user; the session ended", metadata: ["provider": "\(provider.id)"])
            AuthMetrics.login(.denied)
            var page = Self.loginFailed(.forbidden, category: "step_up_subject_mismatch")
            page.message = "You confirmed your sign-in as a different user. You have been signed out; please sign in again."
            return Self.page(page, cookies: [clearBinding, auth.cookies.clearSession()])
        }
        let skew = TimeInterval(provider.client.configuration.clockSkew.components.seconds)
        if !conditions.isSatisfied(by: result.identity, now: auth.store.clock.now, clockSkew: skew) {
            // No new trip to the IdP (it could not deliver once; it would not the next time):
            // a page, the old session kept as it was.
            auth.logger.notice(
                "login did not reach the authentication the page asks for",
                metadata: [
                    "provider": "\(provider.id)", "acr": "\(result.identity.acr ?? "-")",
                    "acr_values": "\(conditions.acrValues.joined(separator: " "))",
                ])
            AuthMetrics.login(.denied)
            let page = Page(
                status: .forbidden, title: "Stronger sign-in needed",
                message: "The identity provider did not confirm the kind of sign-in this page needs"
                    + (conditions.acrValues.isEmpty ? " (a recent one)" : " (\(conditions.acrValues.joined(separator: " or ")))")
                    + ". Your previous sign-in, if any, is unchanged.",
                category: "insufficient_user_authentication", link: (href: "/", text: "Home"))
            return Self.page(page, cookies: [clearBinding])
        }
        if let refusal = auth.settings.rules.check(result.identity) {
            auth.logger.notice(
                "login refused by the access rules",
                metadata: ["rule": "\(refusal.rawValue)", "subject": "\(result.identity.subject)"])
            AuthMetrics.login(.denied)
            let page = Page(
                status: .forbidden, title: "Access denied",
                message: "You signed in, but your account is not allowed to use this application.",
                category: refusal.rawValue, link: (href: "/oauth2/sign_out", text: "Sign out"))
            return Self.page(page, cookies: [clearBinding])
        }
        await discardPreviousSession(request)
        let created: (SessionID, Session)
        do {
            created = try await auth.store.create(
                identity: result.identity, provider: provider.id, tokens: result.tokens)
        } catch {
            auth.logger.error("cannot store a session", metadata: ["error": "\(AuthService.errorCode(error))"])
            return Self.storeUnavailable
        }
        let (id, session) = created
        auth.logger.info(
            "signed in",
            metadata: [
                "subject": "\(session.identity.subject)", "session": "\(session.idHash.shortDescription)",
                "provider": "\(provider.id)",
            ])
        AuthMetrics.login(.succeeded)
        if conditions.silent {
            return Self.page(
                SilentLoginPage(isLoggedIn: true).response(),
                cookies: [auth.cookies.session(id, maxAge: Int(session.absoluteExpiresAt.timeIntervalSince(auth.store.clock.now))), clearBinding])
        }
        let now = auth.store.clock.now
        let maxAge = Int(session.absoluteExpiresAt.timeIntervalSince(now))
        // For the loop guard: a start right after this completion is a bounce.
        var loop = LoginLoopGuard(
            cookieValue: request.cookies[auth.cookies.loopName]?.value, now: now, window: auth.settings.loopWindow)
        loop.recordCompletion(now: now)
        let loopCookie = auth.cookies.loop(
            value: loop.cookieValue,
            maxAge: max(
                loop.secondsLeft(now: now, window: auth.settings.loopWindow),
                Int(auth.settings.loopBounceInterval.components.seconds)))
        return Self.redirect(
            to: stored.returnPath, cookies: [auth.cookies.session(id, maxAge: maxAge), clearBinding, loopCookie])
    }

    /// A new login replaces the browser's old session: delete it rather than leave it orphaned.
    private func discardPreviousSession(_ request: Request) async {
        guard let value = request.cookies[auth.cookies.sessionName]?.value, let old = SessionID(cookieValue: value) else {
            return
        }
        _ = try? await auth.store.delete(old.hash)
    }

    /// The login-failed page.
    static func loginFailed(_ status: HTTPResponse.Status, category: String, returnPath: String = "/") -> Page {
        Page(
            status: status, title: "Sign-in failed",
            message: status == .badGateway
                ? "The identity provider did not answer as expected. Please try again in a moment."
                : "The sign-in could not be completed.",
            category: category, link: (href: LoginChallenge.startPath(returnPath: returnPath), text: "Try again"))
    }

    /// `502` when the IdP's own server-to-server answer failed us, `400` when what the browser
    /// brought back is at fault (state, code, `iss`, an `error` response, a used code).
    static func status(for code: OAuthError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidRequest, .invalidGrant, .accessDenied, .stateMismatch, .missingCode, .missingIssuer,
            .issuerMismatch, .invalidScope, .unsupportedResponseType, .otherOAuthError:
            .badRequest
        default:
            .badGateway
        }
    }
}
