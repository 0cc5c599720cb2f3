import Foundation
import NIOConcurrencyHelpers

/// What may reach the upstream, judged independently of the gateway's code (issue 10).
enum AdmissionOracle {
    /// `GATEHOUSE_SKIP_AUTH_ROUTES` of the fuzzed gateway, as decoded segments.
    static let skipAuthRoutes = [["public"]]

    /// The target the upstream must receive when the gateway forwards `target`: an
    /// origin-form target byte for byte — except that printable bytes RFC 3986 allows nowhere
    /// in a URI (`"`, `<`, `>`, `[`, `\`, `]`, `^`, `` ` ``, `{`, `|`, `}`) may arrive percent-encoded,
    /// as every HTTP client sends them — the path and query of an absolute-form one (RFC 9112
    /// §3.2.2); `nil` for anything else (authority form, `*`), which must never be forwarded.
    static func forwardedTarget(_ target: String) -> String? {
        if target.hasPrefix("/") { return target }
        for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
            let rest = target.dropFirst(scheme.count)
            guard let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return nil }
            return rest[end] == "/" ? String(rest[end...]) : nil
        }
        return nil
    }

    /// Whether `received` is `expected`, or `expected` with the bytes no URI may hold
    /// percent-encoded (upper-case hex), each the same way.
    static func isSameTarget(_ received: String, _ expected: String) -> Bool {
        if received == expected { return true }
        let stray = Set("\"<>[\\]^`{|}".utf8)
        var encoded: [UInt8] = []
        for byte in expected.utf8 {
            if stray.contains(byte) {
                encoded += Array("%".utf8) + Array(String(byte, radix: 16, uppercase: true).utf8)
            } else {
                encoded.append(byte)
            }
        }
        return Array(received.utf8) == encoded
    }

    /// Why a request without a session may not reach the upstream for `target`, or `nil` when
    /// it may: its path must be a skip-auth route by issue 10's rule — no fragment, no `%00`,
    /// no dot segment (also percent-encoded, or as `..;`), no double encoding of `.`, `/`, `\`
    /// or `#`, and no `%2F`/`%5C` (opaque: such a path never matches a skip-auth route); other
    /// escapes are decoded for matching.
    static func anonymousRefusal(_ target: String) -> String? {
        guard let forwarded = forwardedTarget(target) else { return "not a path" }
        if target.contains("#") { return "the target has a fragment" }
        let path = forwarded.prefix { $0 != "?" }
        let lower = path.lowercased()
        if lower.contains("%00") { return "the path has %00" }
        for double in ["%252e", "%252f", "%255c", "%2523"] where lower.contains(double) {
            return "the path is double-encoded"
        }
        if lower.contains("%2f") || lower.contains("%5c") || path.contains("\\") {
            return "the path has an encoded slash or a backslash"
        }
        var segments: [String] = []
        for raw in path.split(separator: "/") {
            guard let decoded = percentDecoded(raw) else { return "the path has a malformed escape" }
            let bare = decoded.prefix { $0 != ";" }
            if bare == "." || bare == ".." { return "the path has a dot segment" }
            segments.append(decoded)
        }
        let matches = skipAuthRoutes.contains { route in
            route.count <= segments.count && zip(route, segments).allSatisfy { $0 == $1 }
        }
        return matches ? nil : "not a skip-auth route"
    }

    /// Whether `target` as an upstream resolves it — percent-decoded, dot segments removed
    /// (RFC 3986 §5.2.4), the fragment ignored — lies under a skip-auth route.
    static func resolvesToSkipAuthRoute(_ target: String) -> Bool {
        guard let forwarded = forwardedTarget(target) else { return false }
        let path = forwarded.prefix { $0 != "?" && $0 != "#" }
        var segments: [String] = []
        for raw in path.split(separator: "/") {
            let decoded = percentDecoded(raw) ?? String(raw)
            switch decoded {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(decoded)
            }
        }
        return skipAuthRoutes.contains { route in
            route.count <= segments.count && zip(route, segments).allSatisfy { $0 == $1 }
        }
    }

    static func percentDecoded(_ raw: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(raw.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// Everything one fuzz run learned: the requests clients sent at the top level (by their
/// `X-Fuzz-Id`), the violations found on the client side and, after the run, on the
/// upstream's side.
final class FuzzLedger: Sendable {
    /// A request a client sent at the top level (per ``StrictHTTP1Parser/Mode/client``).
    struct Unit: Sendable {
        let caseIndex: Int
        let id: String
        let method: String
        let target: String
        /// Users whose real session cookie the request carried.
        let users: [String]
        let bodyDigest: UInt64
        let bodyComplete: Bool
        /// Why RFC 9112 says to refuse its framing, if it does.
        let refusal: String?
    }

    struct Violation: Sendable {
        let category: String
        let caseIndex: Int?
        let detail: String
    }

    private struct State {
        var units: [String: Unit] = [:]
        var cases: [Int: [UInt8]] = [:]
        var violations: [Violation] = []
        var generated = 0
        var topLevel = 0
        var timeouts = 0
    }

    let seed: UInt64
    let label: String
    let sessions: FuzzSessions
    private let state = NIOLockedValueBox(State())

    init(seed: UInt64, label: String, sessions: FuzzSessions) {
        self.seed = seed
        self.label = label
        self.sessions = sessions
    }

    var violations: [Violation] { state.withLockedValue { $0.violations } }
    /// The top-level requests registered so far, by `X-Fuzz-Id`.
    var units: [String: Unit] { state.withLockedValue { $0.units } }
    var generated: Int { state.withLockedValue { $0.generated } }
    var topLevel: Int { state.withLockedValue { $0.topLevel } }
    /// Connections that still waited for an answer at ``FuzzClient/deadline``.
    var timeouts: Int { state.withLockedValue { $0.timeouts } }

    func countTimeout() { state.withLockedValue { $0.timeouts += 1 } }

    /// The top-level requests in `bytes`, as RFC 9112 splits a client's stream (the last one
    /// possibly incomplete); nothing after a request the RFC says to refuse.
    static func topLevelRequests(_ bytes: [UInt8]) -> [StrictHTTP1Parser.Request] {
        var result: [StrictHTTP1Parser.Request] = []
        var position = 0
        while position < bytes.count {
            switch StrictHTTP1Parser.parseRequest(bytes, from: position, mode: .client) {
            case .request(let request):
                result.append(request)
                position = request.range.upperBound
            case .incomplete(let partial):
                if let partial { result.append(partial) }
                return result
            case .invalid(_, let head):
                // A head whose framing is refused is known, but nothing after it.
                if let head { result.append(head) }
                return result
            }
        }
        return result
    }

    /// Notes what `fuzzCase` sends (`sent`: the bytes actually written) before it is sent.
    func register(_ fuzzCase: FuzzCase, sent: [UInt8], units: [StrictHTTP1Parser.Request]) {
        let entries = units.compactMap { request -> Unit? in
            let ids = request.values("x-fuzz-id")
            guard ids.count == 1 else { return nil }
            return Unit(
                caseIndex: fuzzCase.index, id: ids[0], method: request.method, target: request.target,
                users: users(in: request), bodyDigest: Self.digest(request.body), bodyComplete: request.complete,
                refusal: request.refusal)
        }
        state.withLockedValue { state in
            state.cases[fuzzCase.index] = sent
            state.generated += fuzzCase.generated
            state.topLevel += entries.count
            for entry in entries where state.units[entry.id] == nil { state.units[entry.id] = entry }
        }
    }

    func record(_ category: String, case index: Int?, _ detail: String) {
        state.withLockedValue { $0.violations.append(Violation(category: category, caseIndex: index, detail: detail)) }
    }

    /// Users whose session cookie (exactly, by value) `request` carries.
    private func users(in request: StrictHTTP1Parser.Request) -> [String] {
        var found: [String] = []
        for value in request.values("cookie") {
            for pair in value.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0] == sessions.cookieName else { continue }
                for (user, cookie) in sessions.cookies where cookie == parts[1] { found.append(user) }
            }
        }
        return found
    }

    /// FNV-1a, 64 bits: enough to tell bodies apart.
    static func digest(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    // MARK: - Client side

    /// Each client gets the answer to its own request: the `n`-th final response on a
    /// connection answers the `n`-th request, so an upstream answer in it must echo that
    /// request's id.
    func checkAnswers(_ responses: [StrictHTTP1Parser.Response], garbage: [UInt8]?, units: [StrictHTTP1Parser.Request], case index: Int) {
        for (response, request) in zip(responses, units) {
            let ids = request.values("x-fuzz-id")
            let id = ids.count == 1 ? ids[0] : "none"
            if response.status == 101 {
                record(
                    "a client received a 101 to a request that asked for no upgrade", case: index,
                    "request \(id) answered 101")
            }
            let bodyLine = String(decoding: response.body.prefix { $0 != 0x0A }, as: UTF8.self)
            let echoed = response.value("x-fuzz-echo") ?? (bodyLine.hasPrefix("echo:") ? String(bodyLine.dropFirst(5)) : nil)
            guard let echoed else { continue }
            let bodyMatches = request.method == "HEAD" || response.body.isEmpty || bodyLine == "echo:" + id
            if echoed != id || !bodyMatches {
                record(
                    "CROSS-CLIENT: a client received the answer to another request", case: index,
                    "request \(id) got the answer for \(echoed) (body: \(Self.printable(response.body.prefix(120))))")
            }
        }
        if let garbage {
            record(
                "a client received bytes that are not an HTTP response", case: index,
                "received: \(Self.printable(garbage.prefix(300)))")
        }
    }

    // MARK: - Upstream side

    /// Identity fields the gateway sets (and must strip from clients), `_` read as `-`.
    static let gatewayIdentityFields: Set<String> = [
        "x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username", "x-forwarded-groups",
    ]
    /// Fields other auth proxies use to name a user, which no client may set (issue 10).
    static func isOtherIdentityField(_ name: String) -> Bool {
        name.hasPrefix("x-auth-request-")
            || ["remote-user", "remote-email", "remote-groups", "remote-name", "x-remote-user", "x-authenticated-user"]
                .contains(name)
    }

    static func identity(of fields: [StrictHTTP1Parser.Field]) -> [StrictHTTP1Parser.Field] {
        fields.compactMap { field in
            let name = field.name.lowercased().replacingOccurrences(of: "_", with: "-")
            return gatewayIdentityFields.contains(name) ? StrictHTTP1Parser.Field(name: name, value: field.value) : nil
        }.sorted { ($0.name, $0.value) < ($1.name, $1.value) }
    }

    /// Checks every request the upstream saw against the clients' top-level requests;
    /// `identities` holds each user's identity fields as the upstream saw them.
    func checkUpstream(_ records: [RecordingUpstream.Record], identities: [String: [StrictHTTP1Parser.Field]]) {
        var seen: [String: Int] = [:]
        let units = state.withLockedValue { $0.units }
        var previous: [Int: Int] = [:]
        for entry in records {
            let raw = Self.printable(entry.raw.prefix(600))
            // Bytes that name no case belong to the case of the request before them.
            let caseIndex = Self.caseIndex(in: entry.raw) ?? previous[entry.connection]
            if let caseIndex { previous[entry.connection] = caseIndex }
            if let reason = entry.malformed {
                record("the upstream received a malformed or ambiguous request", case: caseIndex, "\(reason): \(raw)")
                continue
            }
            guard let request = entry.request else { continue }
            if entry.id?.hasPrefix("baseline-") == true { continue }
            if let hostile = entry.afterHostileAnswer {
                record(
                    "an upstream connection was reused after a hostile answer", case: caseIndex,
                    "after \(hostile) on connection \(entry.connection): \(raw)")
            }
            guard let id = entry.id, let unit = units[id] else {
                record("REQUEST SMUGGLING: a request no client sent at the top level reached the upstream", case: caseIndex, raw)
                continue
            }
            seen[id, default: 0] += 1
            if seen[id] == 2, !Self.idempotentMethods.contains(unit.method) {
                record(
                    "a non-idempotent request was sent to the upstream twice (RFC 9112 §9.3.1)", case: unit.caseIndex, raw)
            }
            if let refusal = unit.refusal {
                record(
                    "a request whose framing RFC 9112 says to refuse reached the upstream", case: unit.caseIndex,
                    "\(refusal): \(raw)")
            }
            if request.method != unit.method {
                record("the upstream received another method", case: unit.caseIndex, "client \(unit.method): \(raw)")
            }
            if let expected = AdmissionOracle.forwardedTarget(unit.target) {
                if !AdmissionOracle.isSameTarget(request.target, expected) {
                    record(
                        "the upstream received another target than the one decided on", case: unit.caseIndex,
                        "client \(unit.target), expected \(expected): \(raw)")
                }
            } else {
                record("a target that is not a path was forwarded", case: unit.caseIndex, "client \(unit.target): \(raw)")
            }
            checkIdentity(request, unit: unit, identities: identities, raw: raw)
            if unit.bodyComplete, request.complete, !request.body.isEmpty, Self.digest(request.body) != unit.bodyDigest {
                record(
                    "the upstream received another body than the client sent", case: unit.caseIndex,
                    "\(request.body.count) bytes: \(Self.printable(request.body.prefix(200)))")
            }
        }
    }

    /// RFC 9110 §9.2.2: requests a proxy may retry on a fresh connection.
    static let idempotentMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]

    private func checkIdentity(
        _ request: StrictHTTP1Parser.Request, unit: FuzzLedger.Unit, identities: [String: [StrictHTTP1Parser.Field]], raw: String
    ) {
        let identity = Self.identity(of: request.headers)
        let others = request.headers.filter { Self.isOtherIdentityField($0.name.lowercased()) }
        if !Self.identity(of: request.trailers).isEmpty || request.trailers.contains(where: { Self.isOtherIdentityField($0.name.lowercased()) }) {
            record("an identity field reached the upstream in trailers", case: unit.caseIndex, raw)
        }
        if identity.isEmpty {
            if let refusal = AdmissionOracle.anonymousRefusal(unit.target) {
                // Worst when the upstream, resolving what it received, serves a private path.
                let category =
                    AdmissionOracle.resolvesToSkipAuthRoute(request.target)
                    ? "an anonymous request the skip-auth rule refuses reached the upstream (\(refusal))"
                    : "SKIP-AUTH BYPASS: an anonymous request reached a private path upstream (\(refusal))"
                record(category, case: unit.caseIndex, "client \(unit.method) \(unit.target), upstream got \(request.target)")
            }
            if !others.isEmpty {
                record("a client's identity-like field reached the upstream", case: unit.caseIndex, raw)
            }
            return
        }
        guard let user = unit.users.first(where: { identities[$0] == identity }) else {
            record(
                "identity fields at the upstream are not the request's session", case: unit.caseIndex,
                "sessions sent: \(unit.users), seen: \(identity.map { "\($0.name): \($0.value)" }): \(raw)")
            return
        }
        let values = Set(identities[user]?.map(\.value) ?? [])
        if others.contains(where: { !values.contains($0.value) }) {
            record("a client's identity-like field reached the upstream", case: unit.caseIndex, raw)
        }
    }

    // MARK: - Reports

    /// The case a request names (`X-Fuzz-Id: f<case>-…` or `smuggled-<case>-…`).
    static func caseIndex(in raw: [UInt8]) -> Int? {
        let text = String(decoding: raw, as: UTF8.self).lowercased()
        for marker in ["smuggled-", "x-fuzz-id: f"] {
            if let range = text.range(of: marker) {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let index = Int(digits) { return index }
            }
        }
        return nil
    }

    static func printable(_ bytes: some Collection<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case 0x0D: text += "\\r"
            case 0x0A: text += "\\n"
            case 0x5C: text += "\\\\"
            case 0x20...0x7E: text.append(Character(Unicode.Scalar(byte)))
            default: text += String(format: "\\x%02X", byte)
            }
        }
        return text
    }

    /// `text` without the session cookies' values (never printed).
    func redacted(_ text: String) -> String {
        sessions.cookies.reduce(text) { text, entry in
            text.replacingOccurrences(of: entry.value, with: "<\(entry.key)'s session cookie>")
        }
    }

    /// One paragraph per violated invariant: how often, and the first few cases with their
    /// exact client bytes.
    func report(examples: Int = 3) -> [(category: String, text: String)] {
        let (violations, cases) = state.withLockedValue { ($0.violations, $0.cases) }
        var order: [String] = []
        var byCategory: [String: [Violation]] = [:]
        for violation in violations {
            if byCategory[violation.category] == nil { order.append(violation.category) }
            byCategory[violation.category, default: []].append(violation)
        }
        return order.map { category in
            let found = byCategory[category] ?? []
            var text = "FUZZ FAILURE [\(label)] \(category): \(found.count) time(s), seed \(seed)"
            // The shortest reproducers first.
            let shortest = found.sorted { left, right in
                let sizes = (left.caseIndex.flatMap { cases[$0]?.count } ?? .max, right.caseIndex.flatMap { cases[$0]?.count } ?? .max)
                return sizes.0 != sizes.1 ? sizes.0 < sizes.1 : (left.caseIndex ?? .max) < (right.caseIndex ?? .max)
            }
            for violation in shortest.prefix(examples) {
                text += "\n  case \(violation.caseIndex.map(String.init) ?? "?"): \(redacted(violation.detail))"
                if let index = violation.caseIndex, let bytes = cases[index] {
                    text += "\n    client bytes: \"\(redacted(Self.printable(bytes)))\""
                    text += "\n    reproduce: GATEHOUSE_FUZZ_SEED=\(seed) GATEHOUSE_FUZZ_CASE=\(index) swift test --filter ProxyFuzzTests"
                }
            }
            return (category, text)
        }
    }
}
