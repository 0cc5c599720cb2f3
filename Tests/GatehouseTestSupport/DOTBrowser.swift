public import AsyncHTTPClient
public import Foundation
import NIOCore
public import NIOHTTP1

/// A scripted browser for django-oauth-toolkit: follows redirects by hand, keeps cookies, and
/// fills in the real login (and consent) forms — the HTTP a person's browser would send.
public final class DOTBrowser: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Page: Sendable {
        public var url: URL
        public var status: Int
        public var headers: HTTPHeaders
        public var body: String
    }

    public static let http = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    private var cookies: [String: String] = [:]

    public init() {}

    /// Signs in at the IdP and returns the callback URL the IdP redirects to (not fetched).
    /// `consent`: `true` to press Authorize, `false` to press Cancel, `nil` when none is expected.
    public func signIn(
        startingAt url: URL,
        username: String,
        password: String,
        consent: Bool? = nil,
        callbackPrefix: String = DOT.redirectURI
    ) async throws -> URL {
        var page = try await fetch(url)
        for _ in 0..<12 {
            if let location = page.headers.first(name: "location") {
                guard let next = URL(string: location, relativeTo: page.url)?.absoluteURL else {
                    throw Failure(description: "bad redirect \(location)")
                }
                if next.absoluteString.hasPrefix(callbackPrefix) { return next }
                page = try await fetch(next)
                continue
            }
            guard page.status == 200 else {
                throw Failure(description: "IdP answered \(page.status) at \(page.url): \(page.body.prefix(300))")
            }
            var form = Self.formFields(in: page.body)
            if form["password"] != nil {
                form["username"] = username
                form["password"] = password
            } else if form["allow"] != nil || page.body.contains("name=\"allow\"") {
                guard let consent else { throw Failure(description: "unexpected consent page") }
                if consent { form["allow"] = "Authorize" } else { form["allow"] = nil }
            } else {
                throw Failure(description: "unexpected page at \(page.url): \(page.body.prefix(300))")
            }
            let action = Self.formAction(in: page.body).flatMap { URL(string: $0, relativeTo: page.url)?.absoluteURL } ?? page.url
            page = try await fetch(action, form: form)
        }
        throw Failure(description: "too many steps without reaching the callback")
    }

    /// GET (or POST a form to) `url`, sending and storing cookies; never follows redirects.
    public func fetch(_ url: URL, form: [String: String]? = nil) async throws -> Page {
        var request = HTTPClientRequest(url: url.absoluteString)
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        if let form {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map { Self.escape($0.key) + "=" + Self.escape($0.value) }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await Self.http.execute(request, timeout: .seconds(15))
        for header in response.headers["set-cookie"] {
            let pair = header.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
            if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Page(url: url, status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `name` → `value` of every named `<input>` in the page.
    static func formFields(in html: String) -> [String: String] {
        var fields: [String: String] = [:]
        for tag in html.components(separatedBy: "<input").dropFirst() {
            let element = tag.prefix { $0 != ">" }
            if let name = attribute("name", in: element) {
                fields[name] = attribute("value", in: element).map(unescapeHTML) ?? ""
            }
        }
        return fields
    }

    static func formAction(in html: String) -> String? {
        guard let range = html.range(of: "<form") else { return nil }
        let element = html[range.upperBound...].prefix { $0 != ">" }
        return attribute("action", in: element).flatMap { $0.isEmpty ? nil : unescapeHTML($0) }
    }

    private static func attribute(_ name: String, in element: Substring) -> String? {
        guard let start = element.range(of: " \(name)=\"") else { return nil }
        return String(element[start.upperBound...].prefix { $0 != "\"" })
    }

    private static func unescapeHTML(_ text: String) -> String {
        text.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#x27;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
    }
}
