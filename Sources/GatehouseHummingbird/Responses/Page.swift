public import Hummingbird

/// The small HTML pages Gatehouse itself shows (errors, sign-out). They load nothing from
/// anywhere (`default-src 'none'`), cannot be framed, are never cached, and send no referrer.
public struct Page: Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    /// Plain text; escaped when rendered.
    public var message: String
    /// A short, stable error category shown to the user (`state_mismatch`, …), or `nil`.
    public var category: String?
    /// A link under the message: (href, text), both escaped.
    public var link: (href: String, text: String)?
    /// Pre-rendered HTML inserted after the message (only ever built here, from escaped parts).
    var extraHTML: String = ""

    public init(
        status: HTTPResponse.Status, title: String, message: String, category: String? = nil,
        link: (href: String, text: String)? = nil
    ) {
        self.status = status
        self.title = title
        self.message = message
        self.category = category
        self.link = link
    }

    /// The response, with the security headers every Gatehouse page carries.
    public func response() -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// The response's fields: ``securityHeaders`` and the HTML content type.
    public var headers: HTTPFields {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return headers
    }

    /// The page as an HTML document, every piece of text escaped.
    public var html: String {
        var html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<meta name=\"viewport\" content=\"width=device-width\"><title>\(Self.escape(title))</title>"
        html += "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}"
        html += "code{background:#eee;padding:.1rem .3rem}</style></head><body>"
        html += "<h1>\(Self.escape(title))</h1><p>\(Self.escape(message))</p>"
        if let category { html += "<p>Error: <code>\(Self.escape(category))</code></p>" }
        html += extraHTML
        if let link { html += "<p><a href=\"\(Self.escape(link.href))\">\(Self.escape(link.text))</a></p>" }
        html += "</body></html>"
        return html
    }

    /// `Cache-Control: no-store`, `Referrer-Policy: no-referrer`, a CSP that loads nothing,
    /// no framing, no sniffing.
    public static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        headers[.referrerPolicy] = "no-referrer"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        return headers
    }

    /// HTML text and attribute escaping.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#x27;"
            default: result.append(character)
            }
        }
        return result
    }
}

extension Page {
    /// The sign-out confirmation: a POST form (GET never changes state).
    static func signOut() -> Page {
        var page = Page(status: .ok, title: "Sign out", message: "Sign out of this application?")
        page.extraHTML =
            "<form method=\"post\" action=\"/oauth2/sign_out\"><button type=\"submit\">Sign out</button></form>"
        return page
    }
}
