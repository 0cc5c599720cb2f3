import Foundation

/// SplitMix64: small, fast, and the same sequence for the same seed on every machine.
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < probability }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    /// One of `items`, each with its weight.
    mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        var roll = Int.random(in: 0..<items.reduce(0) { $0 + $1.1 }, using: &self)
        for (item, weight) in items {
            if roll < weight { return item }
            roll -= weight
        }
        return items[items.count - 1].0
    }
}

/// The sessions a client may present: the cookie name and one value per user.
struct FuzzSessions: Sendable {
    let cookieName: String
    /// user → session cookie value.
    let cookies: [String: String]
}

/// One connection's worth of client traffic.
struct FuzzCase: Sendable {
    enum Delivery: Sendable {
        /// Everything at once (pipelined), or in pieces cut at `cuts` with `pause` ms between.
        case pipelined(cuts: [Int], pause: Int)
        /// One request, its answer, the next request; each request in two pieces when `pause`.
        case sequential(pause: Int)
        /// The first `cut` bytes, then the connection is closed without reading.
        case earlyClose(cut: Int)
    }

    let index: Int
    let bytes: [UInt8]
    let delivery: Delivery
    /// Requests the generator wrote (some malformed on purpose).
    let generated: Int
}

/// Client traffic from a seed: case `n` of seed `s` is always the same bytes (apart from the
/// session cookie values, which each run obtains afresh).
///
/// Every request carries `X-Fuzz-Id: f<case>-<n>`; a request hidden in a body (a smuggling
/// payload) carries `smuggled-<case>-<n>`, so whatever reaches the upstream names its case.
struct TrafficGenerator: Sendable {
    let seed: UInt64
    /// The gateway's `host:port`, for `Host` and absolute-form targets.
    let authority: String
    let sessions: FuzzSessions
    /// The routes mode (``RouteOracle``): more spellings of `/admin`.
    var routes = false

    func makeCase(_ index: Int) -> FuzzCase {
        var random = FuzzRandom(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD6E8_FEB8_6659_FD93))
        let count = random.chance(0.6) ? 1 : random.int(2...4)
        var bytes: [UInt8] = []
        for number in 0..<count { bytes += makeRequest(&random, case: index, number: number) }
        let delivery: FuzzCase.Delivery
        let roll = random.int(0...99)
        if roll < 12, bytes.count > 1 {
            delivery = .earlyClose(cut: random.int(1...(bytes.count - 1)))
        } else if roll < 55 {
            delivery = .sequential(pause: random.chance(0.12) ? random.int(2...15) : 0)
        } else if random.chance(0.2), bytes.count > 4 {
            let cuts = (0..<random.int(1...3)).map { _ in random.int(1...(bytes.count - 1)) }
            delivery = .pipelined(cuts: Array(Set(cuts)).sorted(), pause: random.int(2...15))
        } else {
            delivery = .pipelined(cuts: [], pause: 0)
        }
        return FuzzCase(index: index, bytes: bytes, delivery: delivery, generated: count)
    }

    static let methods: [(String, Int)] = [
        ("GET", 26), ("HEAD", 6), ("POST", 10), ("PUT", 4), ("DELETE", 4), ("PATCH", 3), ("OPTIONS", 4), ("TRACE", 16),
        ("CONNECT", 4), ("PURGE", 2), ("PROPFIND", 2), ("FOO", 2), ("get", 1), ("M-SEARCH", 1), ("BREW", 1),
    ]

    /// Fields other auth proxies (and the gateway itself) use to name a user.
    static let identityLike: [(String, String)] = [
        ("X-Forwarded-User", "admin"), ("X-Forwarded-Groups", "admins"), ("X-Forwarded-Email", "admin@example.com"),
        ("X-Forwarded-Preferred-Username", "admin"), ("x-forwarded-user", "root"), ("X_Forwarded_User", "admin"),
        ("X-Auth-Request-User", "admin"), ("X-Auth-Request-Email", "admin@example.com"),
        ("X-Auth-Request-Groups", "admins"), ("X-Auth-Request-Preferred-Username", "admin"), ("Remote-User", "admin"),
        ("Remote-Email", "admin@example.com"), ("Remote-Groups", "admins"), ("Remote-Name", "Admin"),
        ("X-Remote-User", "admin"), ("X-Authenticated-User", "admin"),
    ]

    func makeRequest(_ random: inout FuzzRandom, case index: Int, number: Int) -> [UInt8] {
        var method = random.weighted(Self.methods)
        var target = makeTarget(&random, case: index)
        if method == "CONNECT", random.chance(0.6) {
            target = random.pick(["127.0.0.1:80", authority, "evil.example:443", "a:@127.0.0.1:9/x"])
        }
        if method == "get" || random.chance(0.002) { method = method.lowercased() }
        let version = random.chance(0.1) ? "HTTP/1.0" : "HTTP/1.1"
        var fields: [(String, String)] = []
        switch random.int(0...19) {
        case 0: break
        case 1: fields += [("Host", authority), ("Host", "evil.example")]
        case 2: fields.append(("Host", "evil.example"))
        case 3: fields.append(("Host", ""))
        case 4: fields.append(("Host", "127.0.0.1:1@evil.example"))
        default: fields.append(("Host", authority))
        }
        fields.append(("X-Fuzz-Id", "f\(index)-\(number)"))
        if random.chance(0.3) {
            fields.append(("X-Fuzz-Upstream", random.pick(RecordingUpstream.Answer.allCases).rawValue))
        }
        let users = sessions.cookies.keys.sorted()
        switch random.int(0...19) {
        case 0...8: break
        case 9...13: if let user = users.first, let value = sessions.cookies[user] { fields.append(("Cookie", "\(sessions.cookieName)=\(value)")) }
        case 14...16:
            // Any user but the first (with two, the last: the single-route slice keeps its
            // sequence of cases).
            let user = users.count > 2 ? users[random.int(1...(users.count - 1))] : users.last
            if let user, let value = sessions.cookies[user] { fields.append(("Cookie", "\(sessions.cookieName)=\(value)")) }
        case 17: fields.append(("Cookie", "\(sessions.cookieName)=bogus\(index)"))
        default:
            if let user = users.first, let value = sessions.cookies[user] {
                fields.append(("Cookie", "theme=dark; \(sessions.cookieName)=\(value); lang=en"))
            }
        }
        if random.chance(0.4) {
            for _ in 0..<random.int(1...3) { fields.append(random.pick(Self.identityLike)) }
        }
        if random.chance(0.08) { fields.append(("Connection", "close")) }
        if version == "HTTP/1.0", random.chance(0.5) { fields.append(("Connection", "keep-alive")) }
        if random.chance(0.3) { fields.append(("Accept", "*/*")) }

        // The body and its framing.
        let body = makeBody(&random, case: index, number: number)
        var payload: [UInt8] = []
        switch random.int(0...99) {
        case 0..<35:
            break  // neither: no body
        case 35..<63:
            let count = String(body.count)
            switch random.int(0...9) {
            case 0: fields.append(("Content-Length", "0" + count))
            case 1: fields.append(("Content-Length", count + ", " + count))
            case 2: fields += [("Content-Length", count), ("Content-Length", count)]
            default: fields.append(("Content-Length", count))
            }
            payload = body
        case 63..<83:
            fields.append(("Transfer-Encoding", random.pick(["chunked", "chunked", "chunked", "Chunked", "gzip, chunked"])))
            payload = chunked(body, &random)
        case 83..<91:
            // Both: RFC 9112 §6.3 says Transfer-Encoding wins; a desync if anyone uses the length.
            payload = chunked(body, &random)
            let length = random.pick([payload.count, 0, min(5, payload.count), body.count])
            fields.append(("Transfer-Encoding", "chunked"))
            fields.append(("Content-Length", String(length)))
        default:
            // Framing the RFC says to refuse.
            switch random.int(0...7) {
            case 0: fields.append(("Content-Length", "\(body.count), \(body.count + 1)"))
            case 1: fields += [("Content-Length", "\(body.count)"), ("Content-Length", "\(body.count + 2)")]
            case 2: fields.append(("Content-Length", "+\(body.count)"))
            case 3: fields.append(("Content-Length", "-1"))
            case 4: fields.append(("Transfer-Encoding", "identity"))
            case 5: fields.append(("Transfer-Encoding", "chunked, chunked"))
            case 6: fields += [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]
            default: fields.append(("Transfer-Encoding", "xchunked"))
            }
            payload = random.chance(0.5) ? chunked(body, &random) : body
        }
        fields.shuffle(using: &random)
        var text = "\(method) \(target) \(version)\r\n"
        for (name, value) in fields { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + payload
    }

    /// `body` chunked (RFC 9112 §7.1), in one to three chunks, with the odd extension,
    /// upper-case or zero-padded size and trailer field.
    func chunked(_ body: [UInt8], _ random: inout FuzzRandom) -> [UInt8] {
        var result: [UInt8] = []
        var rest = body[...]
        while !rest.isEmpty {
            let size = random.chance(0.5) ? rest.count : random.int(1...rest.count)
            var sizeText = String(size, radix: 16, uppercase: random.chance(0.3))
            if random.chance(0.1) { sizeText = "00" + sizeText }
            if random.chance(0.1) { sizeText += ";ext=1" }
            result += Array((sizeText + "\r\n").utf8) + rest.prefix(size) + [0x0D, 0x0A]
            rest = rest.dropFirst(size)
        }
        result += Array("0\r\n".utf8)
        if random.chance(0.15) { result += Array("X-Forwarded-User: admin\r\n".utf8) }
        result += [0x0D, 0x0A]
        return result
    }

    func makeBody(_ random: inout FuzzRandom, case index: Int, number: Int) -> [UInt8] {
        switch random.int(0...9) {
        case 0: return []
        case 1...4:
            let alphabet = Array("abcdefghij klmnop=&\r\n0123456789".utf8)
            return (0..<random.int(1...300)).map { _ in random.pick(alphabet) }
        default:
            // A body that is itself a request (smuggling payload).
            let tag = "smuggled-\(index)-\(number)"
            return Array(
                random.pick([
                    "GET /admin/secret?s=\(tag) HTTP/1.1\r\nHost: x\r\nX-Forwarded-User: admin\r\nX-Fuzz-Id: \(tag)\r\n\r\n",
                    "GET /public/s?s=\(tag) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-User: admin\r\nX-Forwarded-Groups: admins\r\nX-Fuzz-Id: \(tag)\r\n\r\n",
                    "POST /admin/delete?s=\(tag) HTTP/1.1\r\nHost: x\r\nRemote-User: admin\r\nContent-Length: 5\r\nX-Fuzz-Id: \(tag)\r\n\r\nhello",
                    "GET /admin/secret?s=\(tag) HTTP/1.1\r\nHost: x\r\nX-Forwarded-User: admin\r\nX-Fuzz-Upstream: slow\r\nX-Fuzz-Id: \(tag)\r\n\r\n",
                    "GET /admin/secret?s=\(tag) HTTP/1.1\r\nX-Forwarded-User: admin\r\nX-Fuzz-Id: \(tag)\r\nX-Ignore: ",
                ]).utf8)
        }
    }

    static let publicPaths = ["/public", "/public/", "/public/x", "/public/a/b.css", "/public/x.html"]
    static let privatePaths = [
        "/admin/secret", "/app/page", "/", "/api/v1/users", "/oauth2/auth", "/oauth2/userinfo", "/publicity", "/PUBLIC/x",
        "/admin/a/b/c",
    ]

    func makeTarget(_ random: inout FuzzRandom, case index: Int) -> String {
        let isPublic = random.chance(0.45)
        var target = random.pick(isPublic ? Self.publicPaths : Self.privatePaths)
        if routes, !isPublic, random.chance(0.2) {
            // The provider-restricted route, and spellings of it.
            target = random.pick(["/corp", "/corp/x", "/corp/admin", "/CORP/x", "/c%6frp/x", "/corp;x/y", "/corpx/y"])
        }
        if !isPublic, random.chance(0.12) {
            // Up and out of a private path into a public one: `/admin/secret#/../../public`.
            let depth = target.split(separator: "/").count
            let separator = random.weighted([("#", 5), ("%23", 2), ("?", 1), ("?#", 1), (";", 1), ("", 2)])
            let up = random.weighted([
                ("../", 6), ("%2e%2e/", 1), ("%2E%2e/", 1), (".%2e/", 1), ("..%2f", 1), ("..%5c", 1), ("%252e%252e/", 1),
                ("..;/", 1),
            ])
            target += separator + "/" + String(repeating: up, count: depth) + "public" + (random.chance(0.5) ? "/y" : "")
        }
        if random.chance(0.1) {
            let dots = random.pick(["/./", "/../", "/%2e/", "/%2e%2e/", "/%2E%2e/", "/.%2e/", "/..;/", "/%2e%2E"])
            let slashes = target.indices.filter { target[$0] == "/" }
            if let slash = slashes.last {
                target.replaceSubrange(slash...slash, with: dots + (dots.hasSuffix("/") ? "" : "/"))
            }
        }
        if random.chance(0.06), let slash = target.dropFirst().firstIndex(of: "/") {
            target.replaceSubrange(slash...slash, with: random.pick(["%2F", "%2f", "%5C", "%5c", "%2F..%2F"]))
        }
        if random.chance(0.04) { target += random.pick(["/%252e%252e/admin", "%252f..%252fadmin", "/%255c", "/%2523x"]) }
        if random.chance(0.03) { target += random.pick(["%00", "%00.html", "/%00/../admin"]) }
        if random.chance(0.25) {
            target += "?" + random.pick(["a=1", "next=%2F", "x=..%2F..", "q=%00", "r=#x", "a=%252e", "a=1&b=2"])
        }
        if random.chance(0.06) { target += "#" + random.pick(["", "frag", "/../admin", "x?y"]) }
        if random.chance(0.04) { target = "/" + target }
        if random.chance(0.04), target.contains("public") {
            target = target.replacingFirst("public", with: random.pick(["p%75blic", "%70ublic", "PUBLIC", "public;x=1"]))
        }
        if random.chance(0.015), let slash = target.dropFirst().firstIndex(of: "/") {
            target.replaceSubrange(slash...slash, with: "\\")
        }
        if routes, random.chance(0.08), target.contains("admin") {
            // Readings of another route's name (the routes mode only: the single-route slice
            // keeps its sequence of cases).
            target = target.replacingFirst(
                "admin", with: random.pick(["%61dmin", "adm%69n", "admin;x=1", "ADMIN", "admin%2F..%2Fpublic", "admin%3B"]))
        }
        if random.chance(0.06) {
            target = random.pick(["http://\(authority)", "http://evil.example", "HTTP://\(authority)"]) + target
        }
        if random.chance(0.01) { target = random.pick(["*", "127.0.0.1:80", "evil.example:443"]) }
        return target
    }
}

extension String {
    func replacingFirst(_ part: String, with replacement: String) -> String {
        guard let range = range(of: part) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
