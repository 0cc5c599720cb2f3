import GatehouseHummingbird
import Hummingbird
import Logging

/// The answers of the route table and the route rules: a page for a browser navigation, JSON
/// (`error`, `error_description`) for anything else; each logged with its reason.
enum RouteRefusal {
    /// `404`: no route takes this host and path.
    static func notFound(_ request: Request, logger: Logger) -> Response {
        logger.notice("no route for the request", metadata: ["method": "\(request.method)"])
        return answer(
            request, status: .notFound, code: "no_route", title: "Not found",
            message: "No application is served at this address.")
    }

    /// `400`: the path selects different routes depending on how it is decoded.
    static func ambiguous(_ request: Request, logger: Logger) -> Response {
        logger.notice("request path is ambiguous between routes", metadata: ["method": "\(request.method)"])
        var response = answer(
            request, status: .badRequest, code: "ambiguous_path", title: "Bad request",
            message: "The request path reads as different applications depending on how it is decoded (%2F, ;, escaped letters).")
        response.headers[.connection] = "close"
        return response
    }

    /// `405` with `Allow`: the route takes this host and path, not this method.
    static func methodNotAllowed(_ request: Request, route: Route, logger: Logger) -> Response {
        logger.notice("method not allowed on route", metadata: ["route": "\(route.name)", "method": "\(request.method)"])
        var response = answer(
            request, status: .methodNotAllowed, code: "method_not_allowed", title: "Method not allowed",
            message: "This address accepts only \(route.allowField).")
        response.headers[.allow] = route.allowField
        return response
    }

    /// `403`: signed in, but the route's `allow` rules refuse the identity.
    static func forbidden(_ request: Request, route: Route, refusal: AccessRules.Refusal, logger: Logger) -> Response {
        logger.notice("route rules refused the request", metadata: ["route": "\(route.name)", "reason": "\(refusal.rawValue)"])
        let rule =
            switch refusal {
            case .email: "its allowed emails and email domains"
            case .group: "its allowed groups"
            case .claim: "the claims it requires"
            }
        return answer(
            request, status: .forbidden, code: refusal.rawValue, title: "Access denied",
            message: "You are signed in, but this application (route \(route.name)) admits you only by \(rule).")
    }

    /// A session from a provider the route does not admit: a new login with the route's
    /// provider (or the chooser among its providers) for a navigation, `401` JSON otherwise.
    static func wrongProvider(_ request: Request, route: Route, logger: Logger) -> Response {
        logger.notice("session from a provider the route does not admit", metadata: ["route": "\(route.name)"])
        let only = route.providers.flatMap { $0.count == 1 ? $0[0] : nil }
        guard LoginChallenge.isNavigation(request) else {
            return JSONResponse.signInAgain(
                "provider_not_allowed", message: "Sign in with a provider this address accepts.",
                returnPath: ReturnPath.sanitize(LoginChallenge.returnPath(of: request)), provider: only)
        }
        return LoginChallenge.response(for: request, provider: only)
    }

    /// A session whose authentication is weaker or older than the route asks for: a
    /// navigation goes back to the IdP (the session's own provider, asking for `acr_values`
    /// and `max_age`); anything else gets `401` with RFC 9470's `insufficient_user_authentication`
    /// in `WWW-Authenticate` and the login URL in the JSON.
    static func stepUp(_ request: Request, route: Route, provider: String?, logger: Logger) -> Response {
        logger.notice("step-up needed", metadata: ["route": "\(route.name)"])
        let returnPath = ReturnPath.sanitize(LoginChallenge.returnPath(of: request))
        guard LoginChallenge.isNavigation(request) else {
            var response = JSONResponse.signInAgain(
                "insufficient_user_authentication", message: "A stronger or more recent sign-in is needed.",
                returnPath: returnPath, provider: provider)
            var challenge = "Bearer error=\"insufficient_user_authentication\", "
                + "error_description=\"A stronger or more recent sign-in is needed\""
            if let acrValues = route.stepUp?.acrValues, !acrValues.isEmpty {
                challenge += ", acr_values=\"\(acrValues.joined(separator: " "))\""
            }
            if let maxAge = route.stepUp?.maxAge { challenge += ", max_age=\(maxAge)" }
            response.headers[.wwwAuthenticate] = challenge
            return response
        }
        return LoginChallenge.response(for: request, provider: provider)
    }

    private static func answer(
        _ request: Request, status: HTTPResponse.Status, code: String, title: String, message: String
    ) -> Response {
        if LoginChallenge.isNavigation(request) {
            return Page(status: status, title: title, message: message, category: code).response()
        }
        return JSONResponse.oauthError(code, description: message, status: status)
    }
}
