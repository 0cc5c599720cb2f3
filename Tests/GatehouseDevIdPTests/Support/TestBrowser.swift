import AsyncHTTPClient
import Foundation
import GatehouseTestSupport
import NIOHTTP1

/// A scripted browser for the dev IdP and the demo: one cookie jar, no automatic redirects,
/// and the dev IdP's login form filled in as a person would.
final class TestBrowser: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Reply: Sendable {
        var url: String
        var status: Int
        var headers: HTTPHeaders
        var body: String

        var location: String? { headers.first(name: "location") }
    }

    /// name → value (one jar for every loopback port, as a browser keeps cookies per host).
    var cookies: [String: String] = [:]

    /// GET `url`, or POST `form` to it, with the jar's cookies; stores `Set-Cookie`s.
    @discardableResult
    func send(_ url: String, form: [(String, String)]? = nil, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(Array(Self.encode(form).utf8))
        }
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(15))
        for header in response.headers["set-cookie"] { store(header) }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(url: url, status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// Opens the authorization URL, signs in on the login form, and returns where the IdP
    /// sends the browser (the client's redirect URI with `code`, `state`, `iss`; not fetched).
    func signIn(at url: URL, username: String, password: String, code: String? = nil) async throws -> URL {
        let page = try await send(url.absoluteString)
        if page.status == 302, let location = page.location, let next = URL(string: location) { return next }
        let reply = try await submitLogin(page, action: "login", username: username, password: password, code: code)
        guard reply.status == 303, let location = reply.location, let next = URL(string: location) else {
            throw Failure("sign-in answered \(reply.status): \(reply.body.prefix(300))")
        }
        return next
    }

    /// Opens the authorization URL and presses Cancel; returns the redirect.
    func cancel(at url: URL) async throws -> URL {
        let reply = try await submitLogin(try await send(url.absoluteString), action: "cancel", username: "", password: "")
        guard reply.status == 303, let location = reply.location, let next = URL(string: location) else {
            throw Failure("cancel answered \(reply.status): \(reply.body.prefix(300))")
        }
        return next
    }

    /// POSTs the login form of `page` (which must be the form).
    func submitLogin(
        _ page: Reply, action: String, username: String, password: String, code: String? = nil
    ) async throws -> Reply {
        guard page.status == 200, let interaction = Self.hiddenValue("interaction", in: page.body),
            let issuer = Self.formOrigin(of: page)
        else {
            throw Failure("not a login form (\(page.status)): \(page.body.prefix(300))")
        }
        return try await send(
            issuer + "/authorize",
            form: [("interaction", interaction), ("action", action), ("username", username), ("password", password)]
                + (code.map { [("code", $0)] } ?? []))
    }

    /// The query parameters of `url`.
    static func query(_ url: URL) -> [String: String] {
        var values: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] {
            values[item.name] = item.value
        }
        return values
    }

    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    private static func hiddenValue(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// `scheme://host:port` of the page's URL.
    private static func formOrigin(of page: Reply) -> String? {
        guard let components = URLComponents(string: page.url), let scheme = components.scheme,
            let host = components.host
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    private func store(_ header: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return }
        let name = String(pair[..<equals])
        let value = String(pair[pair.index(after: equals)...])
        if parts.contains(where: { $0.lowercased() == "max-age=0" }) || value.isEmpty {
            cookies[name] = nil
        } else {
            cookies[name] = value
        }
    }
}
