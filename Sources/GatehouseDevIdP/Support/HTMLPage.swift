import Hummingbird

/// The IdP's HTML pages: one layout with the development-only banner, accessible (labels,
/// visible focus, high contrast, one `<main>` and `<h1>`), phone-sized (viewport meta) and
/// self-contained (nothing loaded from anywhere; the CSP says so).
struct HTMLPage: Sendable {
    var title: String
    /// Pre-rendered HTML: build it only from ``escape(_:)``d parts.
    var bodyHTML: String
    var status: HTTPResponse.Status = .ok
    /// The warning across the top of every page.
    var banner: String = DevelopmentOnly.banner

    static let style = """
        :root{color-scheme:light}
        body{font:1rem/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#111}
        .dev{background:#7a1f00;color:#fff;padding:.75rem 1rem;font-weight:700;text-align:center}
        main{max-width:36rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #c9ced6;border-radius:.5rem}
        h1{font-size:1.5rem;margin-top:0}
        label{display:block;font-weight:600;margin-top:1rem}
        input{display:block;width:100%;box-sizing:border-box;font:inherit;padding:.6rem;margin-top:.25rem;
          border:2px solid #555;border-radius:.35rem}
        .actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}
        button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:.35rem;border:2px solid #0b3d91;cursor:pointer}
        button.primary{background:#0b3d91;color:#fff}
        button.secondary{background:#fff;color:#0b3d91}
        :focus-visible{outline:3px solid #e8a200;outline-offset:2px}
        .error{background:#fde8e8;border:2px solid #a4161a;color:#6a040f;padding:.6rem;border-radius:.35rem}
        .hint{color:#333;font-size:.9rem}
        code{background:#eef0f3;padding:.05rem .3rem;border-radius:.2rem;overflow-wrap:anywhere}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.35rem;
          border-bottom:1px solid #c9ced6;overflow-wrap:anywhere}
        h2{font-size:1.15rem;margin-top:1.5rem}
        .actions a{align-self:center;color:#0b3d91}
        """

    /// The complete response with the security headers.
    func response(extraHeaders: HTTPFields = HTTPFields()) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>\(Self.escape(title)) — Gatehouse development</title><style>\(Self.style)</style></head><body>\
            <div class="dev" role="note">\(Self.escape(banner))</div>\
            <main><h1>\(Self.escape(title))</h1>\(bodyHTML)</main></body></html>
            """
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for field in extraHeaders { headers.append(field) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with one paragraph of text.
    static func message(_ title: String, _ text: String, status: HTTPResponse.Status = .ok) -> Response {
        HTMLPage(title: title, bodyHTML: "<p>\(escape(text))</p>", status: status).response()
    }

    /// No caching, no referrer (codes are in URLs), no framing (clickjacking of the login
    /// form), nothing loaded from elsewhere.
    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        headers[.referrerPolicy] = "no-referrer"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
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
