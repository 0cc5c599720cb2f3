import NIOHTTP1
import Testing

@testable import GatehouseGateway

/// The one decision on request targets and framing (``RequestTarget``, ``RequestScreening``)
/// and skip-auth matching on its result, case by case. The differential fuzzer
/// (`ProxyFuzz`) checks the same rules end to end.
@Suite("Request target rules")
struct RequestTargetRuleTests {
    @Test(arguments: [
        // fragments: `/admin/secret#/../../public` once matched /public and reached the
        // upstream as /admin/secret
        "/admin/secret#/../../public", "/public#x", "/#",
        // dot segments, plain, encoded, as parameters, between other separators
        "/public/../admin", "/public/./x", "/..", "/.", "/public/%2e%2e/admin", "/public/%2E%2e/admin", "/public/.%2e/x",
        "/public/..;x/admin", "/public/..%3bx/admin", "/public/..%2fadmin", "/public/..%5Cadmin", "/public/..\\admin", "/public\\x",
        "/public/%2e/x", "/public/..?x=1",
        // NUL, control bytes, non-ASCII, malformed escapes
        "/public/%00", "/public?x=%00", "/public/%zz", "/public/%2", "/public/%", "/pub\u{7F}lic", "/publ\u{E9}c",
        // double encoding
        "/public/%252e%252e/admin", "/public/%252F", "/public/%255c", "/public/%2523", "/public/%25%32%65", "/x%2500",
        // not origin form
        "*", "http://evil.example/public", "evil.example:80", "", "//oauth2/auth", "//public",
    ])
    func refusedTargets(_ target: String) {
        #expect(!RequestTarget.isAcceptable(target), "\(target) must be refused")
        let routes = SkipAuthRoutes(prefixes: [["public"], []])
        #expect(!routes.matches(target))
    }

    @Test(arguments: [
        "/", "/public", "/public/", "/public/a?b=c", "/a%2Fb", "/a%5Cb", "/x/.../y", "/x/..a/y", "/x/a../y", "/%25",
        "/%2541", "/a;b=c/d", "/~user/'q'(x)*!$&+,=:@", "/?a=/../b",
    ])
    func acceptedTargets(_ target: String) throws {
        let decided = try RequestTarget(target)
        #expect(decided.forwarded == target, "accepted targets are forwarded byte for byte")
    }

    @Test func strayBytesAreEncodedBeforeTheDecision() throws {
        let target = try RequestTarget("/a|b^c`d{e}f\"g[h]i<j>?q={x}|y")
        #expect(target.forwarded == "/a%7Cb%5Ec%60d%7Be%7Df%22g%5Bh%5Di%3Cj%3E?q=%7Bx%7D%7Cy")
        #expect(target.path == "/a%7Cb%5Ec%60d%7Be%7Df%22g%5Bh%5Di%3Cj%3E")
        // A raw backslash in the path is refused (a separator to Windows upstreams); in the
        // query it is sent encoded.
        #expect(!RequestTarget.isAcceptable("/public\\..\\admin"))
        #expect(!RequestTarget.isAcceptable("/a\\b"))
        #expect(try RequestTarget("/a?b=\\c").forwarded == "/a?b=%5Cc")
    }

    @Test func skipAuthMatchesTheForwardedPathOnly() throws {
        let routes = try SkipAuthRoutes(parsing: ["/public", "/assets/"])
        for path in ["/public", "/public/", "/public/a/b", "/p%75blic/x", "/assets/app.js"] {
            #expect(routes.matches(path), "\(path)")
        }
        // Opaque separators, empty segments and parameters never match; nor look-alikes.
        for path in ["/public%2Fx", "/public%2fx", "/public%5Cx", "/public\\x", "/public//x", "//public", "/public;x", "/publicity", "/x/public"]
        {
            #expect(!routes.matches(path), "\(path)")
        }
        #expect(throws: (any Error).self) { try SkipAuthRoutes(parsing: ["/public/../admin"]) }
        #expect(throws: (any Error).self) { try SkipAuthRoutes(parsing: ["/public#x"]) }
        #expect(throws: (any Error).self) { try SkipAuthRoutes(parsing: ["public"]) }
    }

    private func head(
        _ method: HTTPMethod = .GET, _ target: String = "/x", version: HTTPVersion = .http1_1, fields: [(String, String)]
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: target, headers: HTTPHeaders(fields))
    }

    @Test func framingAndHostRules() {
        let host = ("Host", "app.example:443")
        func code(_ head: HTTPRequestHead) -> (UInt, String)? {
            RequestScreening.check(head).map { ($0.status.code, $0.code) }
        }
        #expect(code(head(fields: [host])) == nil)
        #expect(code(head(version: .http1_0, fields: [])) == nil, "HTTP/1.0 needs no Host")
        #expect(code(head(fields: []))?.0 == 400, "HTTP/1.1 without Host")
        #expect(code(head(fields: [host, ("Host", "other")]))?.0 == 400, "two Host fields")
        for bad in ["a b", "evil/x", "user@host", "", "a\\b", "x?y"] {
            #expect(code(head(fields: [("Host", bad)]))?.0 == 400, "Host \(bad)")
        }
        #expect(code(head(.TRACE, fields: [host, ("Content-Length", "40")]))?.1 == "bad_framing", "TRACE with a body")
        #expect(code(head(.TRACE, fields: [host, ("Transfer-Encoding", "chunked")]))?.1 == "bad_framing")
        #expect(code(head(.TRACE, fields: [host, ("Content-Length", "0")])) == nil)
        #expect(code(head(.POST, fields: [host, ("Transfer-Encoding", "gzip, chunked")]))?.0 == 501)
        #expect(code(head(.POST, fields: [host, ("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]))?.0 == 501)
        #expect(code(head(.POST, fields: [host, ("Transfer-Encoding", "Chunked")])) == nil)
        #expect(code(head(.POST, fields: [host, ("Transfer-Encoding", "chunked"), ("Content-Length", "3")]))?.0 == 400)
        #expect(code(head(.POST, version: .http1_0, fields: [("Transfer-Encoding", "chunked")]))?.0 == 400)
        #expect(code(head(.POST, fields: [host, ("Content-Length", "3"), ("Content-Length", "3")]))?.0 == 400)
        for bad in ["+3", "-1", "3 4", "0x10", "1e3", ""] {
            #expect(code(head(.POST, fields: [host, ("Content-Length", bad)]))?.0 == 400, "Content-Length \(bad)")
        }
        #expect(code(head(.CONNECT, "a:443", fields: [host]))?.1 == "connect_refused")
        #expect(code(head(.GET, "/a#b", fields: [host]))?.1 == "fragment_in_target")
    }
}
