public import Hummingbird

/// What a request without a session gets (DESIGN §1): a top-level browser navigation is sent
/// to `/oauth2/start`; anything else (fetch/XHR, API clients, background polling) gets `401`
/// JSON with a `login_url` and never starts a login, so polling cannot pile up login attempts.
public enum LoginChallenge {
    /// Whether `request` is a top-level navigation: `Sec-Fetch-Mode: navigate`, or — from a
    /// browser that sends no fetch metadata — a GET or HEAD accepting `text/html`.
    public static func isNavigation(_ request: Request) -> Bool {
        if let mode = request.headers[.secFetchMode] {
            return mode.lowercased() == "navigate"
        }
        guard request.method == .get || request.method == .head else { return false }
        return request.headers[values: .accept].contains { $0.lowercased().contains("text/html") }
    }

    /// `/oauth2/start?rd=<path and query of the request>`, with `provider` and `prompt` when given.
    public static func startPath(returnPath: String, provider: String? = nil, prompt: String? = nil) -> String {
        var path = "/oauth2/start?"
        if let provider { path += "provider=" + PercentEncoding.encode(provider) + "&" }
        if let prompt { path += "prompt=" + PercentEncoding.encode(prompt) + "&" }
        // A path is checked here; an absolute URL (several hosts) only by the start it leads to.
        let target = returnPath.hasPrefix("/") ? ReturnPath.sanitize(returnPath) : returnPath
        return path + "rd=" + PercentEncoding.encode(target)
    }

    /// The path and query of `request`, the place to return to after login.
    public static func returnPath(of request: Request) -> String {
        let path = request.uri.path
        guard let query = request.uri.query, !query.isEmpty else { return path }
        return path + "?" + query
    }

    /// `302` to the login for navigations, else `401` JSON; with `provider`, the login goes
    /// straight to that provider.
    public static func response(for request: Request, provider: String? = nil) -> Response {
        let returnPath = ReturnPath.sanitize(returnPath(of: request))
        guard isNavigation(request) else { return JSONResponse.unauthenticated(returnPath: returnPath, provider: provider) }
        var headers = HTTPFields()
        headers[.location] = startPath(returnPath: returnPath, provider: provider)
        headers[.cacheControl] = "no-store"
        return Response(status: .found, headers: headers)
    }
}
