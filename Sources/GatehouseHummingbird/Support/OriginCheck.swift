public import Hummingbird

/// Cross-site request forgery checks for state-changing requests made with the session
/// cookie (DESIGN §4): `POST /oauth2/sign_out` always, proxied unsafe methods when the
/// gateway is asked to (`GATEHOUSE_PROXY_CSRF`).
public enum OriginCheck {
    /// Whether a state-changing request comes from our own pages: `Origin` equal to the
    /// public origin, or — without `Origin` — `Sec-Fetch-Site: same-origin` (or `none`, a
    /// user action). A request with neither did not come from a browser, which always sends
    /// `Origin` on a POST, so it cannot be a cross-site forgery.
    public static func isSameOrigin(_ request: Request, origin expected: String) -> Bool {
        isSameOrigin(request, accepting: { $0 == expected })
    }

    /// ``isSameOrigin(_:origin:)`` for the origins `isOwn` accepts (several hosts sharing the
    /// session cookie's domain: ``AuthSettings/isOwnOrigin(_:)``).
    public static func isSameOrigin(_ request: Request, accepting isOwn: (String) -> Bool) -> Bool {
        let site = request.headers[.secFetchSite]?.lowercased()
        if let origin = request.headers[.origin]?.lowercased(), origin != "null" {
            return isOwn(origin)
        }
        // `Origin: null` is what Chromium sends for a same-origin form POST from a page with
        // `Referrer-Policy: no-referrer` (ours); it is also what a sandboxed cross-site frame
        // sends. Fetch Metadata tells them apart; without it, a null origin is refused.
        if let site {
            return site == "same-origin" || site == "none"
        }
        return request.headers[.origin] == nil
    }

    /// Whether `method` may change state (RFC 9110 §9.2.1: all but GET, HEAD, OPTIONS, TRACE).
    public static func isUnsafe(_ method: HTTPRequest.Method) -> Bool {
        !(method == .get || method == .head || method == .options || method == .trace)
    }

    /// The `403` for a refused cross-site request: a page for a navigation (a form post), JSON
    /// for anything else.
    public static func refusal(for request: Request) -> Response {
        guard LoginChallenge.isNavigation(request) else {
            return JSONResponse.oauthError(
                "cross_site_request", description: "This request came from another site.", status: .forbidden)
        }
        return Page(
            status: .forbidden, title: "Request refused",
            message: "This request came from another site, so it was not passed to the application.",
            category: "cross_site_request", link: (href: "/", text: "Go to the application")
        ).response()
    }
}
