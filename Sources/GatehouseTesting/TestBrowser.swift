import AsyncHTTPClient
public import Foundation
import NIOCore
public import NIOHTTP1
import Synchronization

/// A scripted browser for tests against the development IdP and the apps behind it: one
/// cookie jar (a browser keeps cookies per host whatever the port, and everything here runs
/// on 127.0.0.1), no automatic redirects, and the IdP's login form filled in as a person
/// would.
public final class TestBrowser: Sendable {
    /// A step that did not go as a browser's would.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// One answer, its body read whole.
    public struct Reply: Sendable {
        public var url: String
        public var status: Int
        public var headers: HTTPHeaders
        public var body: String

        /// `Location`, as sent.
        public var location: String? { headers.first(name: "location") }
    }

    private let jar = Mutex<[String: String]>([:])

    public init() {}

    /// The jar: cookie name → value.
    public var cookies: [String: String] {
        get { jar.withLock { $0 } }
        set { jar.withLock { $0 = newValue } }
    }

    /// GET `url`, or POST `form` to it, with the jar's cookies; stores `Set-Cookie`s.
    @discardableResult
    public func send(_ url: String, form: [(String, String)]? = nil, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        let cookies = self.cookies
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        }
        let response = try await Self.client.execute(request, timeout: .seconds(15))
        for header in response.headers["set-cookie"] { store(header) }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(url: url, status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// Opens an authorization URL, signs in on the login form (with `code` when the IdP asks
    /// a second factor), and returns where the IdP sends the browser: the client's redirect
    /// URI with `code`, `state`, `iss` (not fetched). Already signed in, the IdP's redirect.
    public func signIn(at url: URL, username: String, password: String, code: String? = nil) async throws -> URL {
        let page = try await send(url.absoluteString)
        if page.status == 302, let location = page.location, let next = URL(string: location) { return next }
        let reply = try await submitLogin(page, action: "login", username: username, password: password, code: code)
        guard reply.status == 303, let location = reply.location, let next = URL(string: location) else {
            throw Failure("sign-in answered \(reply.status): \(reply.body.prefix(300))")
        }
        return next
    }

    /// Opens an authorization URL and presses Cancel; returns the redirect.
    public func cancel(at url: URL) async throws -> URL {
        let reply = try await submitLogin(try await send(url.absoluteString), action: "cancel", username: "", password: "")
        guard reply.status == 303, let location = reply.location, let next = URL(string: location) else {
            throw Failure("cancel answered \(reply.status): \(reply.body.prefix(300))")
        }
        return next
    }

    /// POSTs the login form of `page` (which must be the development IdP's form).
    public func submitLogin(
        _ page: Reply, action: String, username: String, password: String, code: String? = nil
    ) async throws -> Reply {
        guard page.status == 200, let interaction = Self.hiddenValue("interaction", in: page.body),
            let issuer = Self.origin(of: page.url)
        else {
            throw Failure("not a login form (\(page.status)): \(page.body.prefix(300))")
        }
        return try await send(
            issuer + "/authorize",
            form: [("interaction", interaction), ("action", action), ("username", username), ("password", password)]
                + (code.map { [("code", $0)] } ?? []))
    }

    /// The query parameters of `url`.
    public static func query(_ url: URL) -> [String: String] {
        var values: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] {
            values[item.name] = item.value
        }
        return values
    }

    /// `application/x-www-form-urlencoded` (RFC 3986 unreserved characters kept).
    public static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    /// A client that never follows redirects (each hop is the browser's to take).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    private static func hiddenValue(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// `scheme://host[:port]` of `url`.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    private func store(_ header: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return }
        let name = String(pair[..<equals])
        let value = String(pair[pair.index(after: equals)...])
        let expired = parts.contains { $0.lowercased() == "max-age=0" } || value.isEmpty
        jar.withLock { $0[name] = expired ? nil : value }
    }
}
