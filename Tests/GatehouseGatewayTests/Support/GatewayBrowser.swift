import AsyncHTTPClient
import Foundation
import GatehouseTestSupport
import Hummingbird

/// A scripted browser for the gateway: a cookie jar, no automatic redirects, and the full
/// login through django-oauth-toolkit's real login form (``DOTBrowser``).
final class GatewayBrowser: @unchecked Sendable {
    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func headers(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }

        func echo() throws -> EchoUpstream.Echo {
            try JSONDecoder().decode(EchoUpstream.Echo.self, from: Data(body.utf8))
        }
    }

    let baseURL: String
    /// name → value, as a browser keeps them for this origin.
    var cookies: [String: String] = [:]

    init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// Sends a request to the gateway (`target` is a path, or a full URL), with the jar's
    /// cookies; stores the `Set-Cookie`s of the answer.
    @discardableResult
    func send(
        _ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: target.hasPrefix("http") ? target : baseURL + target)
        request.method = .init(rawValue: method)
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await DOTBrowser.http.execute(request, timeout: .seconds(20))
        for header in response.headers["set-cookie"] { store(setCookie: header) }
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: String(buffer: bytes))
    }

    /// Starts a login (with `provider`, when named) and signs in at the IdP; returns the
    /// callback URL (not yet visited).
    func signInAtIdP(user: String, password: String, returnPath: String = "/", provider: String? = nil) async throws -> URL {
        let rd = returnPath.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
        let start = try await send("GET", "/oauth2/start?" + (provider.map { "provider=\($0)&" } ?? "") + "rd=" + rd)
        guard start.status == 302, let location = start.header("location"), let url = URL(string: location) else {
            throw TestServer.Failure("start answered \(start.status): \(start.body.prefix(200))")
        }
        return try await DOTBrowser().signIn(
            startingAt: url, username: user, password: password,
            callbackPrefix: baseURL + "/oauth2/callback" + (provider.map { "/" + $0 } ?? ""))
    }

    /// The full login; returns the callback's answer.
    @discardableResult
    func logIn(
        user: String = "alice", password: String = "alice-password-1", returnPath: String = "/", provider: String? = nil
    ) async throws -> Reply {
        let callback = try await signInAtIdP(user: user, password: password, returnPath: returnPath, provider: provider)
        return try await send("GET", callback.absoluteString)
    }

    private func store(setCookie header: String) {
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
