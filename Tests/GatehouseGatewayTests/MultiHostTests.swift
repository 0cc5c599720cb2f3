import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Logging
import Testing

/// Several hosts, one sign-in (issue 11): with `cookie_domain`, the session cookie carries
/// `Domain`; a login started on an application host hops to the public URL's host (where the
/// binding cookie and the callback live) and returns to the page it came from — and `rd` may
/// name only the configured hosts. The gateway runs at `http://localhost:<port>` (a loopback
/// name, so `localhost` can be the cookie domain) with routes on `app.localhost` and
/// `admin.localhost`; requests carry those names in `Host`, as a browser resolving
/// `*.localhost` to loopback would send them.
@Suite("Several hosts, one sign-in", .serialized)
struct MultiHostTests {
    @Test func hostsOutsideTheCookieDomainAreRefused() async throws {
        let environment = [
            "GATEHOUSE_PUBLIC_URL": "https://login.example.com", "GATEHOUSE_ISSUER": "https://idp.example",
            "GATEHOUSE_CLIENT_ID": "app", "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
        ]
        func loadError(_ yaml: String) async -> String? {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-hosts-\(UUID()).yaml")
            defer { try? FileManager.default.removeItem(at: file) }
            try? Data(yaml.utf8).write(to: file)
            do {
                _ = try await GatewayConfiguration.load(environment: environment, file: file.path)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let route = "routes:\n  - name: app\n    match: {host: app.example.com}\n    upstream: http://a\n"
        #expect(await loadError(route)?.contains("set cookie_domain") == true)
        #expect(await loadError("cookie_domain: example.com\n" + route) == nil)
        #expect(await loadError("cookie_domain: example.org\n" + route)?.contains("GATEHOUSE_COOKIE_DOMAIN") == true)
        #expect(await loadError("cookie_domain: login.example.com\n" + route)?.contains("under cookie_domain") == true)
        #expect(await loadError("cookie_domain: 10.0.0.1\n" + route)?.contains("domain name") == true)
    }
}
