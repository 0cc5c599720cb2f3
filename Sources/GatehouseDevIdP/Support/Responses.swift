import Foundation
import Hummingbird

/// Small response builders shared by the routes.
enum Responses {
    /// A JSON body with `Cache-Control: no-store` (RFC 6749 §5.1 for token responses; harmless
    /// elsewhere).
    static func json(_ body: [UInt8], status: HTTPResponse.Status = .ok, extra: HTTPFields = HTTPFields()) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        headers[.pragma] = "no-cache"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Encodes `value` as JSON (sorted keys, unescaped slashes).
    static func json(encoding value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)
        return json(body, status: status)
    }

    /// An OAuth error response (RFC 6749 §5.2): `400` unless stated, JSON `error` and
    /// `error_description`.
    static func oauthError(
        _ error: String, _ description: String, status: HTTPResponse.Status = .badRequest, extra: HTTPFields = HTTPFields()
    ) -> Response {
        json(encoding: ["error": error, "error_description": description], status: status)
            .adding(extra)
    }

    /// `302 Found` (GET) or `303 See Other` (after a POST, so the browser GETs the target).
    static func redirect(_ location: String, afterPost: Bool = false, cookies: [String] = []) -> Response {
        var headers = HTMLPage.securityHeaders
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPFields.Element(name: .setCookie, value: cookie)) }
        return Response(status: afterPost ? .seeOther : .found, headers: headers)
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax; `Secure` is not set because the IdP
    /// serves plain HTTP on loopback.
    static func cookie(_ name: String, _ value: String, path: String = "/", maxAge: Duration?) -> String {
        var cookie = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Lax"
        if let maxAge { cookie += "; Max-Age=\(maxAge.components.seconds)" }
        return cookie
    }

    /// A `Set-Cookie` value deleting `name`.
    static func deleteCookie(_ name: String, path: String = "/") -> String {
        "\(name)=; Path=\(path); HttpOnly; SameSite=Lax; Max-Age=0"
    }
}

extension Response {
    /// The response with `fields` added to its headers.
    func adding(_ fields: HTTPFields) -> Response {
        var response = self
        for field in fields { response.headers.append(field) }
        return response
    }
}

extension Request {
    /// The request's form body (`application/x-www-form-urlencoded`, at most 64 KiB), or `nil`
    /// when it is another media type or not valid form encoding.
    func formBody() async throws -> FormData? {
        let mediaType = headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard mediaType?.lowercased() == "application/x-www-form-urlencoded" else { return nil }
        let buffer = try await body.collect(upTo: 64 * 1024)
        return FormData(encoded: String(buffer: buffer))
    }

    /// The query string's parameters (`nil` when badly encoded).
    var queryForm: FormData? {
        FormData(encoded: uri.query ?? "")
    }

    /// The value of cookie `name`.
    func cookie(_ name: String) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return String(parts[1]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }
}
