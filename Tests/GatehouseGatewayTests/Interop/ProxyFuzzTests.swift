import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Logging
import NIOConcurrencyHelpers
import Testing

/// The differential proxy fuzzer (issue 10): generated client traffic through a real gateway
/// (skip-auth route `/public`, two signed-in users) to a ``RecordingUpstream``, once over the
/// direct proxy and once over the router, with every invariant checked on every request:
///
/// - each request the upstream sees is one a client sent at the top level (nothing smuggled),
///   with the same method and exactly the target the gateway decided on;
/// - an anonymous request reaches it only on a skip-auth route (``AdmissionOracle``);
/// - identity fields at the upstream come only from the request's real session, and equal it;
/// - each client gets the answer to its own request, never another's;
/// - the upstream never receives an ambiguous message, and a connection that answered in a
///   way that makes it unusable is never used again.
///
/// The CI slice is a fixed seed and 10,000 generated requests per path. Environment:
/// `GATEHOUSE_FUZZ_SEED` (a number), `GATEHOUSE_FUZZ_REQUESTS` (per path),
/// `GATEHOUSE_FUZZ_SECONDS` (total, split between the paths; replaces the request count),
/// `GATEHOUSE_FUZZ_CASE` (only that case, to reproduce one). `scripts/fuzz-proxy.sh` runs it
/// with a random seed.
@Suite("Differential proxy fuzzer", .serialized)
struct ProxyFuzzTests {
    struct Settings {
        var seed: UInt64 = 0x6174_6568_6F75_7365
        var requestsPerPath = 10_000
        var seconds: Double?
        var onlyCase: Int?
        var workers = 16
        /// `GATEHOUSE_FUZZ_TRACE=1`: each case (number, delivery, bytes without session cookies)
        /// on standard error as it starts, to find what crashed the process, which reports
        /// nothing else.
        var trace = false

        init(environment: [String: String]) throws {
            func value<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
                guard let text = environment[name], !text.isEmpty else { return nil }
                guard let parsed = parse(text) else { throw TestServer.Failure("\(name)=\(text) is not a number") }
                return parsed
            }
            seed = try value("GATEHOUSE_FUZZ_SEED") { UInt64($0) } ?? seed
            requestsPerPath = try value("GATEHOUSE_FUZZ_REQUESTS") { Int($0) } ?? requestsPerPath
            seconds = try value("GATEHOUSE_FUZZ_SECONDS") { Double($0) }
            onlyCase = try value("GATEHOUSE_FUZZ_CASE") { Int($0) }
            trace = environment["GATEHOUSE_FUZZ_TRACE"].map { !$0.isEmpty && $0 != "0" } ?? false
            workers = try value("GATEHOUSE_FUZZ_WORKERS") { Int($0) }.map { max(1, $0) } ?? workers
        }
    }

    struct PathResult {
        var label: String
        var generated: Int
        var topLevel: Int
        var upstream: Int
        var timeouts: Int
        var seconds: Double
        var reports: [(category: String, text: String)]
    }

    @Test func bothProxyPathsForwardOnlyWhatTheyAdmitted() async throws {
        let settings = try Settings(environment: ProcessInfo.processInfo.environment)
        print("proxy fuzz: seed \(settings.seed)" + (settings.onlyCase.map { ", case \($0) only" } ?? ""))
        var results: [PathResult] = []
        for direct in [true, false] {
            results.append(try await Self.run(direct: direct, settings: settings))
        }
        let total = results.reduce(0) { $0 + $1.generated }
        let seconds = results.reduce(0) { $0 + $1.seconds }
        for result in results {
            print(
                "proxy fuzz [\(result.label)]: \(result.generated) generated requests (\(result.topLevel) well framed, "
                    + "\(result.upstream) reached the upstream, \(result.timeouts) connection(s) unanswered after "
                    + "\(FuzzClient.deadline.nanoseconds / 1_000_000_000) s) in \(String(format: "%.1f", result.seconds)) s, "
                    + "\(result.reports.count) invariant(s) violated")
        }
        print("proxy fuzz: \(total) generated requests on both paths in \(String(format: "%.1f", seconds)) s, seed \(settings.seed)")
        for result in results {
            for report in result.reports {
                print(report.text)
                Issue.record(Comment(rawValue: "[\(result.label)] \(report.category) (seed \(settings.seed); details above)"))
            }
        }
        if settings.onlyCase == nil, settings.seconds == nil {
            #expect(total >= 20_000)
        }
    }

    /// The routes mode (``RouteOracle``): three YAML routes over two upstreams, both proxy
    /// paths, half the single-route slice's requests per path; every invariant above plus
    /// the routes': each upstream gets only its routes' requests, a path that reads as two
    /// routes reaches neither, and the `admin` route only alice, with its methods.
    @Test func routeTableForwardsOnlyWhatItAdmitted() async throws {
        var settings = try Settings(environment: ProcessInfo.processInfo.environment)
        settings.requestsPerPath = max(1, settings.requestsPerPath / 2)
        settings.seconds = settings.seconds.map { $0 / 2 }
        print("proxy fuzz (routes): seed \(settings.seed)")
        var total = 0
        for direct in [true, false] {
            let result = try await RecordingUpstream.with { other in
                try await Self.run(direct: direct, settings: settings, routesUpstream: other)
            }
            total += result.generated
            print(
                "proxy fuzz (routes) [\(result.label)]: \(result.generated) generated requests, \(result.upstream) reached "
                    + "the upstreams, \(result.reports.count) invariant(s) violated")
            for report in result.reports {
                print(report.text)
                Issue.record(Comment(rawValue: "[routes, \(result.label)] \(report.category) (seed \(settings.seed); details above)"))
            }
        }
        if settings.onlyCase == nil, settings.seconds == nil {
            #expect(total >= 10_000)
        }
    }

    /// One path: a gateway in front of a fresh ``RecordingUpstream``, two sessions, then the
    /// cases until the budget is spent. With `routesUpstream`, the routes mode: the gateway
    /// has ``RouteOracle/yaml``'s routes, `upstream` is their `a` and `routesUpstream` their `b`.
    static func run(direct: Bool, settings: Settings, routesUpstream: RecordingUpstream? = nil) async throws -> PathResult {
        let label = direct ? "direct proxy" : "router"
        return try await RecordingUpstream.with { upstream in
            try await withGateway(upstreamPort: upstream.port, direct: direct, routesUpstream: routesUpstream?.port) { port, baseURL in
                // Two real sessions, through the test IdP's login form (the routes mode: three,
                // carol's from the partner provider).
                var cookies: [String: String] = [:]
                var cookieName = "gatehouse"
                let users: [(String, String?)] =
                    routesUpstream == nil ? [("alice", nil), ("bob", nil)] : RouteOracle.users.map { ($0.0, $0.1) }
                for (user, provider) in users {
                    let browser = GatewayBrowser(baseURL: baseURL)
                    try await browser.logIn(user: user, password: "\(user)-password-1", provider: provider)
                    cookieName = browser.cookies["__Host-gatehouse"] != nil ? "__Host-gatehouse" : "gatehouse"
                    let cookie = try #require(browser.cookies[cookieName])
                    cookies[user] = cookie
                }
                let sessions = FuzzSessions(cookieName: cookieName, cookies: cookies)
                let identities = try await baselineIdentities(sessions, port: port, upstream: upstream)

                let generator = TrafficGenerator(
                    seed: settings.seed, authority: "127.0.0.1:\(port)", sessions: sessions, routes: routesUpstream != nil)
                let ledger = FuzzLedger(seed: settings.seed, label: label, sessions: sessions)
                let clock = ContinuousClock()
                let started = clock.now
                let deadline = settings.seconds.map { started + .milliseconds(Int($0 * 500)) }
                let next = NIOLockedValueBox(settings.onlyCase ?? 0)
                /// The next case to run, or `nil` once the budget is spent.
                @Sendable func take() -> Int? {
                    next.withLockedValue { index in
                        if let only = settings.onlyCase {
                            guard index == only else { return nil }
                            index += 1
                            return only
                        }
                        if let deadline {
                            guard clock.now < deadline else { return nil }
                        } else if ledger.generated >= settings.requestsPerPath {
                            return nil
                        }
                        index += 1
                        return index - 1
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<(settings.onlyCase == nil ? settings.workers : 1) {
                        group.addTask {
                            while let index = take() {
                                let fuzzCase = generator.makeCase(index)
                                if settings.trace {
                                    let bytes = ledger.redacted(FuzzLedger.printable(fuzzCase.bytes))
                                    FileHandle.standardError.write(
                                        Data("proxy fuzz [\(label)]: case \(index) \(fuzzCase.delivery): \"\(bytes)\"\n".utf8))
                                }
                                var sent = fuzzCase.bytes
                                if case .earlyClose(let cut) = fuzzCase.delivery { sent = Array(sent[..<cut]) }
                                let units = FuzzLedger.topLevelRequests(sent)
                                ledger.register(fuzzCase, sent: sent, units: units)
                                let outcome = await FuzzClient.run(fuzzCase.delivery, bytes: sent, units: units, port: port)
                                ledger.checkAnswers(outcome.responses, garbage: outcome.garbage, units: units, case: index)
                                if outcome.timedOut { ledger.countTimeout() }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                // Let the last requests reach the upstream, then compare.
                var count = -1
                func received() -> Int { upstream.records.count + (routesUpstream?.records.count ?? 0) }
                while received() != count {
                    count = received()
                    try await Task.sleep(for: .milliseconds(300))
                }
                let elapsed = clock.now - started
                ledger.checkUpstream(upstream.records, identities: identities)
                if let routesUpstream {
                    ledger.checkUpstream(routesUpstream.records, identities: identities)
                    ledger.checkRoutes(upstream.records, upstream: "a", identities: identities)
                    ledger.checkRoutes(routesUpstream.records, upstream: "b", identities: identities)
                }
                return PathResult(
                    label: label, generated: ledger.generated, topLevel: ledger.topLevel,
                    upstream: received() - identities.count, timeouts: ledger.timeouts,
                    seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                    reports: ledger.report())
            }
        }
    }

    /// Each user's identity fields as the upstream sees them for a plain request.
    static func baselineIdentities(
        _ sessions: FuzzSessions, port: Int, upstream: RecordingUpstream
    ) async throws -> [String: [StrictHTTP1Parser.Field]] {
        var identities: [String: [StrictHTTP1Parser.Field]] = [:]
        for (user, cookie) in sessions.cookies {
            let id = "baseline-\(user)"
            let request = "GET /baseline HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nCookie: \(sessions.cookieName)=\(cookie)\r\n"
                + "X-Fuzz-Id: \(id)\r\nConnection: close\r\n\r\n"
            let (responses, _) = try await RawHTTPClient.exchange(port: port, request, count: 1)
            #expect(responses.first?.status == 200, "baseline request for \(user)")
            let seen = upstream.records.first { $0.id == id }?.request?.headers ?? []
            identities[user] = FuzzLedger.identity(of: seen)
            try #require(identities[user]?.contains { $0.name == "x-forwarded-user" } == true, "no identity for \(user)")
        }
        return identities
    }

    /// A gateway (SQLite in a temporary directory, a fresh key) in front of `upstreamPort`,
    /// with `/public` as skip-auth route — or, with `routesUpstream`, ``RouteOracle/yaml``'s
    /// routes to both; `body` gets its port and public URL.
    static func withGateway(
        upstreamPort: Int, direct: Bool, routesUpstream: Int? = nil, _ body: (Int, String) async throws -> PathResult
    ) async throws -> PathResult {
        let issuer = try DOT.issuer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-fuzz-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try TestServer.freePort()
        var environment = [
            "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
            "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
            "GATEHOUSE_ISSUER": issuer,
            "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
            "GATEHOUSE_CLIENT_SECRET": DOT.secret,
            "GATEHOUSE_SCOPES": "openid email profile groups",
            "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)",
            "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
            "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
            "GATEHOUSE_SKIP_AUTH_ROUTES": "/public",
            "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
        ]
        var file: String?
        if let routesUpstream {
            for name in ["UPSTREAM", "SKIP_AUTH_ROUTES", "ISSUER", "CLIENT_ID", "CLIENT_SECRET", "SCOPES"] {
                environment["GATEHOUSE_" + name] = nil
            }
            let path = directory.appendingPathComponent("gatehouse.yaml")
            let yaml = RouteOracle.yaml.replacingOccurrences(of: "UPSTREAM_A", with: "\(upstreamPort)")
                .replacingOccurrences(of: "UPSTREAM_B", with: "\(routesUpstream)")
                .replacingOccurrences(of: "CORP_ISSUER", with: issuer)
                .replacingOccurrences(of: "PARTNER_ISSUER", with: try DOT.partnerIssuer())
            try Data(yaml.utf8).write(to: path)
            file = path.path
        }
        let configuration = try await GatewayConfiguration.load(environment: environment, file: file)
        var logger = Logger(label: "gatehouse.fuzz")
        logger.logLevel = .critical
        let gateway = try Gateway(configuration: configuration, logger: logger)
        return try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
            try await body(port, "http://127.0.0.1:\(port)")
        }
    }
}
