import Foundation
import GatehouseHummingbird
import NIOHTTP1
import Testing

@testable import GatehouseGateway

/// The direct path (`DirectProxy`): requests with a settled session, or anonymous on a
/// skip-auth route, go upstream from the event loop; everything else through the router. The
/// rest of the gateway suite runs over it too (identity headers, 1 GiB streaming, graceful
/// shutdown, metrics); these tests cover what is particular to it.
@Suite("Direct proxy path")
struct DirectProxyTests {
    /// ``ProxyHeaders/rule(forName:)`` (no lowercased copy per field) agrees with the rule
    /// table read with `lowercased()`, for every known name in random letter cases and for
    /// 20,000 random token names (letters, digits, `-`, `_`), many of them near-misses.
    @Test func ruleLookupIgnoresLetterCaseLikeTheTable() {
        var generator = SystemRandomNumberGenerator()
        func randomCase(_ name: String) -> String {
            String(name.map { Bool.random(using: &generator) ? Character($0.uppercased()) : $0 })
        }
        for name in ProxyHeaders.rules.keys {
            for _ in 0..<20 {
                let variant = randomCase(name)
                #expect(ProxyHeaders.rule(forName: variant) == ProxyHeaders.rules[name], "\(variant)")
            }
            #expect(ProxyHeaders.rule(forName: name + "s") == nil)
            #expect(ProxyHeaders.rule(forName: String(name.dropLast())) == ProxyHeaders.rules[String(name.dropLast())])
        }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        let known = Array(ProxyHeaders.rules.keys)
        for index in 0..<20_000 {
            var name: String
            if index % 2 == 0, let base = known.randomElement(using: &generator) {
                // A near-miss: one character of a known name replaced.
                var characters = Array(randomCase(base))
                let position = Int.random(in: 0..<characters.count, using: &generator)
                characters[position] = alphabet.randomElement(using: &generator) ?? "x"
                name = String(characters)
            } else {
                name = String((0..<Int.random(in: 1...31, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator) ?? "x"
                })
            }
            #expect(ProxyHeaders.rule(forName: name) == ProxyHeaders.rules[name.lowercased()], "\(name)")
            #expect(
                ProxyHeaders.isOtherForwardingField(name)
                    == (name.lowercased().hasPrefix("x-forwarded-") || name.lowercased() == "x-real-ip"), "\(name)")
        }
    }

    @Test func sessionCookieLookup() {
        func lookup(_ values: String...) -> SessionCookieLookup {
            var fields = HTTPHeaders()
            for (index, value) in values.enumerated() { fields.add(name: index == 0 ? "Cookie" : "cookie", value: value) }
            return SessionCookieLookup(fields, name: "gatehouse")
        }
        #expect(lookup() == .absent)
        #expect(lookup("a=1; gatehouse=X; b=2") == .one("X"))
        #expect(lookup("gatehouse=X") == .one("X"))
        #expect(lookup("a=1;gatehouse=X") == .one("X"))
        #expect(lookup("gatehouse=") == .one(""))
        #expect(lookup("gatehousex=1; x=gatehouse=1; gatehouse-loop=2") == .absent)
        #expect(lookup("GATEHOUSE=1; __Host-gatehouse=2") == .absent)
        #expect(lookup("gatehouse=A; gatehouse=B") == .ambiguous)
        #expect(lookup("gatehouse=A", "b=1; gatehouse=B") == .ambiguous)
        #expect(lookup("b=1", "gatehouse=B") == .one("B"))
    }

    @Test func gatehouseCookiesAreFilteredOut() {
        #expect(ProxyHeaders.withoutGatehouseCookies("theme=dark; a=b") == "theme=dark; a=b")
        #expect(ProxyHeaders.withoutGatehouseCookies("gatehouse=1") == nil)
        #expect(ProxyHeaders.withoutGatehouseCookies("") == nil)
        #expect(
            ProxyHeaders.withoutGatehouseCookies(
                "a=1; gatehouse=2; __Host-gatehouse-login-abc=3;b=gatehouse; __Host-gatehouse=4; gatehouse-loop=5; gatehouses=6")
                == "a=1; b=gatehouse; gatehouses=6")
        // The byte-level name check agrees with the one the rest of Gatehouse uses.
        for name in [
            "gatehouse", "__Host-gatehouse", "gatehouse-loop", "__Host-gatehouse-loop", "gatehouse-login-x",
            "__Host-gatehouse-login-", "gatehouse-login", "gatehouse-loops", "__Host-", "__host-gatehouse", "Gatehouse",
            "gatehouse-", "x-gatehouse", "", "__Host-gatehouse-loo",
        ] {
            #expect(ProxyHeaders.isGatehouseCookie(Substring(name).utf8) == AuthCookies.isGatehouseCookie(name), "\(name)")
        }
    }
}
