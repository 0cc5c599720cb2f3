import Foundation
import GatehouseHummingbird
import Hummingbird
import Testing

/// The `503` page of ``SessionUnavailable`` links back to the request ("Try again"): only
/// through ``ReturnPath/sanitize(_:)``, so a crafted target cannot make it a link to another
/// site (`/\evil.example` reads as `//evil.example` in browsers) or a `javascript:` URL.
@Suite("503 page retry link")
struct RetryLinkTests {
    struct Unavailable<Context: RequestContext>: RouterMiddleware {
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
            async throws -> Response
        {
            throw SessionUnavailable(.storeUnavailable)
        }
    }

    /// The `href` of the page's link for `target`, asked as a navigation over a raw socket.
    static func retryLink(port: Int, _ target: String) async throws -> String? {
        let (responses, _) = try await RawHTTPClient.exchange(
            port: port,
            "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Mode: navigate\r\nConnection: close\r\n\r\n",
            count: 1)
        let response = try #require(responses.first)
        #expect(response.status == 503, "\(target)")
        guard let start = response.body.range(of: "<a href=\"") else { return nil }
        let rest = response.body[start.upperBound...]
        return rest.prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func retryLinkIsASanitizedReturnPath() async throws {
        let router = Router()
        router.add(middleware: Unavailable())
        router.get("**") { _, _ in "unreachable" }
        try await TestServer.run(
            { onRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }
        ) { port in
            let kept = try await Self.retryLink(port: port, "/app/page?tab=2&x=%C3%A9")
            #expect(kept == "/app/page?tab=2&x=%C3%A9")
            for target in ["/\\evil.example/x", "/%2F%2Fevil.example", "/%5Cevil.example", "/app/%0d%0aSet-Cookie:x"] {
                let link = try await Self.retryLink(port: port, target)
                #expect(link == "/", "\(target)")
            }
        }
    }
}
