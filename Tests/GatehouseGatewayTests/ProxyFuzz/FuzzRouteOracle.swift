import Foundation

/// The routes mode of the fuzzer (issue 11), judged independently of the gateway's code: a
/// gateway with two providers — corp (alice, bob) and partner (carol) — and four YAML routes
/// in front of two upstreams — `admin` (`/admin`, GET and POST, group `staff`: alice only),
/// `corp` (`/corp`, corp's sessions only: alice and bob) and `public` (`/public`, skip-auth)
/// on upstream `b`, `app` (everything else, anyone signed in) on upstream `a` — and what may
/// reach each.
enum RouteOracle {
    static let yaml = """
        providers:
          - id: corp
            issuer: CORP_ISSUER
            client_id: gatehouse-test
            client_secret: gatehouse-test-secret
            scopes: openid email profile groups
          - id: partner
            issuer: PARTNER_ISSUER
            client_id: gatehouse-test
            client_secret: gatehouse-test-secret
            scopes: openid email profile groups
        routes:
          - name: admin
            match: {path_prefix: /admin, methods: [GET, POST]}
            upstream: http://127.0.0.1:UPSTREAM_B
            allow: {groups: [staff]}
          - name: corp
            match: {path_prefix: /corp}
            upstream: http://127.0.0.1:UPSTREAM_B
            providers: [corp]
          - name: public
            match: {path_prefix: /public}
            upstream: http://127.0.0.1:UPSTREAM_B
            skip_auth: true
          - name: app
            upstream: http://127.0.0.1:UPSTREAM_A
        """

    enum Route: String { case admin, corp, `public`, app }

    /// The sessions of the routes mode: user → provider.
    static let users = [("alice", "corp"), ("bob", "corp"), ("carol", "partner")]

    /// The route of one reading of a path (its segments).
    static func route(of segments: [String]) -> Route {
        switch segments.first {
        case "admin": .admin
        case "corp": .corp
        case "public": .public
        default: .app
        }
    }

    /// How upstreams may read a path: its segments as sent, and fully decoded (`%2F` and `\`
    /// as separators, `;parameters` dropped); empty segments dropped in both.
    static func readings(_ path: Substring) -> [[String]] {
        let literal = path.split(separator: "/").map(String.init)
        var decoded: [String] = []
        for segment in path.split(separator: "/") {
            let text = AdmissionOracle.percentDecoded(segment) ?? String(segment)
            for piece in text.split(whereSeparator: { $0 == "/" || $0 == "\\" }) {
                let bare = piece.prefix { $0 != ";" }
                if !bare.isEmpty { decoded.append(String(bare)) }
            }
        }
        return [literal, decoded]
    }

    /// Why a request that reached upstream `upstream` (`a` or `b`) with `method`, for the
    /// client's `target`, from `user` (`nil`: no identity) breaks the routes, or `nil`.
    static func violation(upstream: String, method: String, target: String, user: String?) -> String? {
        guard let forwarded = AdmissionOracle.forwardedTarget(target) else { return nil }  // reported elsewhere
        let path = forwarded.prefix { $0 != "?" && $0 != "#" }
        let routes = Set(readings(path).map(route(of:)))
        guard routes.count == 1, let route = routes.first else {
            return "ROUTE CONFUSION: a path that reads as routes \(routes.map(\.rawValue).sorted()) was forwarded"
        }
        let expected = route == .app ? "a" : "b"
        if upstream != expected {
            return "ROUTE CONFUSION: a request for route \(route.rawValue) reached upstream \(upstream)"
        }
        if route == .admin {
            if !["GET", "HEAD", "POST"].contains(method) { return "a method route admin does not take reached it" }
            if user != "alice" { return "ROUTE RULE BYPASS: \(user ?? "an anonymous client") reached route admin (staff only)" }
        }
        if route == .corp, user != "alice", user != "bob" {
            return "PROVIDER BYPASS: \(user ?? "an anonymous client") reached route corp (corp's sessions only)"
        }
        return nil
    }
}

extension FuzzLedger {
    /// The routes mode's invariant for every request upstream `name` received.
    func checkRoutes(
        _ records: [RecordingUpstream.Record], upstream name: String, identities: [String: [StrictHTTP1Parser.Field]]
    ) {
        let units = self.units
        for entry in records {
            guard let request = entry.request, let id = entry.id, !id.hasPrefix("baseline-"), let unit = units[id] else { continue }
            let identity = Self.identity(of: request.headers)
            let user = identity.isEmpty ? nil : identities.first { $0.value == identity }?.key
            if let violation = RouteOracle.violation(upstream: name, method: request.method, target: unit.target, user: user) {
                record(violation, case: unit.caseIndex, "client \(unit.method) \(unit.target), upstream \(name) got \(request.target)")
            }
        }
    }
}
