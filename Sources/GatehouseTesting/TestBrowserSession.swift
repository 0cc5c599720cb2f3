import AsyncHTTPClient
import Foundation
import GatehouseDevIdP
import NIOCore
import Synchronization

/// One browser for one sign-in: one cookie jar (a browser keeps cookies per host whatever the
/// port, and the provider and the app are both on 127.0.0.1),
/// no automatic redirects, the development IdP's login form filled in.
final class TestBrowserSession: Sendable {
    private let jar = Mutex<[String: String]>([:])

    func signIn(user: TestUser, issuer: String, loginURL: String) async throws -> TestSignIn {
        let start = try await send(loginURL, accept: "text/html")
        guard (300..<400).contains(start.status), let authorize = start.location(relativeTo: loginURL) else {
            throw TestSignInError("the app's login route answered \(start.status), not a redirect to the provider")
        }
        guard authorize.hasPrefix(issuer + "/") else {
            throw TestSignInError("the app's login route redirects to \(authorize), not to \(issuer)")
        }
        var page = try await send(authorize, accept: "text/html")
        if (300..<400).contains(page.status), let next = page.location(relativeTo: authorize), !next.hasPrefix(issuer) {
            // Still signed in at the provider: straight back to the app.
            return try await finish(callback: next)
        }
        guard page.status == 200, let interaction = Self.hiddenValue("interaction", in: page.body) else {
            throw TestSignInError("the provider answered \(page.status) instead of its login form: \(page.body.prefix(200))")
        }
        page = try await send(
            issuer + "/authorize",
            form: [
                ("interaction", interaction), ("action", "login"), ("username", user.username),
                ("password", user.password),
            ])
        guard (300..<400).contains(page.status), let callback = page.location(relativeTo: issuer) else {
            throw TestSignInError("the provider refused the sign-in (\(page.status)): \(page.body.prefix(200))")
        }
        return try await finish(callback: callback)
    }

    private func finish(callback: String) async throws -> TestSignIn {
        let reply = try await send(callback, accept: "text/html")
        guard reply.status < 400 else {
            throw TestSignInError("the app's callback answered \(reply.status): \(reply.body.prefix(200))")
        }
        return TestSignIn(
            cookies: jar.withLock { $0 }, location: reply.location(relativeTo: callback), callbackStatus: reply.status)
    }

    struct Reply {
        var status: Int
        var headers: [(String, String)]
        var body: String

        func location(relativeTo base: String) -> String? {
            guard let value = headers.first(where: { $0.0.lowercased() == "location" })?.1 else { return nil }
            return URL(string: value, relativeTo: URL(string: base))?.absoluteString
        }
    }

    private func send(_ url: String, accept: String? = nil, form: [(String, String)]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        let cookies = jar.withLock { $0 }
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        }
        if let accept { request.headers.add(name: "Accept", value: accept) }
        request.headers.add(name: "Sec-Fetch-Mode", value: "navigate")
        if let form {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        }
        let response = try await Self.client.execute(request, timeout: .seconds(15))
        for header in response.headers["set-cookie"] { store(header) }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: String(buffer: body))
    }

    /// A client that never follows redirects (each hop is the browser's to take).
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    private func store(_ header: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return }
        let name = String(pair[..<equals])
        let value = String(pair[pair.index(after: equals)...])
        let expired = parts.contains { $0.lowercased() == "max-age=0" } || value.isEmpty
        jar.withLock { $0[name] = expired ? nil : value }
    }

    private static func encode(_ form: [(String, String)]) -> String {
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
}
