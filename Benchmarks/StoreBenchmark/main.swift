// Session store latency, throughput and cache memory: SQLite and PostgreSQL side by side.
//
// One run measures, through the public `SessionStore` API:
//   load      `SessionStore.load(_:)` latency (p50/p99/p99.9/max), single caller, random ids from
//             a large stored set (default 1,000,000), per backend both uncached (cacheCapacity 0:
//             every load reads the database, opens the sealed tokens, decodes the claims and the
//             access token) and cached
//             (warm working set of `--cached` sessions, every load a hit). A probe driver wrapped
//             around the real one counts the database reads, so "cached" is proven to read
//             nothing and "uncached" to read every time; it also times the driver call, which
//             splits a load into database time and the store's own work (decrypt + decode).
//             Touch writes are switched off (touchInterval one year) except in the "touch due"
//             row, which shows the first load of a session per touchInterval.
//   throughput  `create` and `updateTokens` (compare-and-swap) with `--callers` concurrent
//             callers for `--seconds` each; the in-memory driver as reference.
//   memory    resident-set growth (VmRSS after malloc_trim) while `--cached` sessions are loaded
//             into an empty cache, divided by that count.
// Rows are realistic: a Keycloak-shaped token response (~2.3 KB of access, refresh and ID token;
// `raw` holds the other fields, as `TokenResponse` produces it), sealed by the store; claims
// JSON with email, name and groups. The cache holds the access token, not the other two.
//
// The driver API has no batch insert, so the stored set is populated with concurrent
// `create` calls (each one `insertSession` in its own transaction), capped at
// `--populate-seconds` per backend: the exact count reached is printed.
//
// Run: scripts/bench-store.sh [--sessions N] [--loads N] [--only sqlite,postgres,memory] ...
// PostgreSQL is measured when GATEHOUSE_TEST_POSTGRES_URL is set (the script starts its own).

import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseSQLite
import GatehousePostgres
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// MARK: Options

struct Options: Sendable {
    var sessions = 1_000_000
    var populateSeconds = 300.0
    var populateConcurrency = 16
    var loads = 100_000
    var warmupLoads = 10_000
    var touchLoads = 2_000
    /// Working set of the cached-load rows, and the sessions of the memory measurement.
    var cached = 100_000
    var callers = 8
    var throughputSeconds = 5.0
    var directory = ".test-artifacts/bench"
    var backends: Set<String> = ["sqlite", "postgres", "memory"]
    var postgresURL = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"]

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        func int(_ current: Int) -> Int { iterator.next().flatMap { Int($0.replacingOccurrences(of: "_", with: "")) } ?? current }
        func double(_ current: Double) -> Double { iterator.next().flatMap(Double.init) ?? current }
        while let argument = iterator.next() {
            switch argument {
            case "--sessions": sessions = int(sessions)
            case "--populate-seconds": populateSeconds = double(populateSeconds)
            case "--populate-concurrency": populateConcurrency = int(populateConcurrency)
            case "--loads": loads = int(loads)
            case "--warmup": warmupLoads = int(warmupLoads)
            case "--touch-loads": touchLoads = int(touchLoads)
            case "--cached": cached = int(cached)
            case "--callers": callers = int(callers)
            case "--seconds": throughputSeconds = double(throughputSeconds)
            case "--dir": directory = iterator.next() ?? directory
            case "--only": backends = Set((iterator.next() ?? "").split(separator: ",").map(String.init))
            default:
                emit("""
                    usage: StoreBenchmark [--sessions N] [--populate-seconds S] [--populate-concurrency N]
                           [--loads N] [--warmup N] [--touch-loads N] [--cached N] [--callers N] [--seconds S]
                           [--dir PATH] [--only sqlite,postgres,memory]
                    """)
                exit(2)
            }
        }
        sessions = max(1, sessions)
        cached = max(1, min(cached, sessions))
        callers = max(1, callers)
    }
}

// MARK: Fixtures

/// Fast deterministic randomness for picking ids and filling fixtures (not for secrets).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func base64URL(_ bytes: some DataProtocol) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func uuid(_ random: inout SplitMix64) -> String {
    let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
    let hex = bytes.map { String(format: "%02x", $0) }.joined()
    let characters = Array(hex)
    return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
}

/// A compact JWS with a JSON payload and a random signature of `signatureBytes`.
func jwt(header: String, payload: String, signatureBytes: Int, _ random: inout SplitMix64) -> String {
    let signature = (0..<signatureBytes).map { _ in UInt8.random(in: 0...255, using: &random) }
    return base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8)) + "." + base64URL(signature)
}

/// One user's login: the identity the gateway keeps and the token set of a Keycloak-shaped
/// token response (RS256 access and ID tokens, HS256 refresh token).
struct Login: Sendable {
    var identity: Identity
    var tokens: TokenSet
}

let issuer = "https://idp.example.com/realms/gatehouse"
let groups = ["engineering", "platform-admins", "oncall-primary", "staff"]

func makeLogin(_ random: inout SplitMix64) -> Login {
    let now = Int(Date().timeIntervalSince1970)
    let subject = uuid(&random)
    let sid = uuid(&random)
    let groupList = groups.map { "\"\($0)\"" }.joined(separator: ",")
    let rsHeader = #"{"alg":"RS256","typ":"JWT","kid":"tJ5lQ3x9o0mDkq7v"}"#
    let access = jwt(
        header: rsHeader,
        payload: """
            {"exp":\(now + 300),"iat":\(now),"jti":"\(uuid(&random))","iss":"\(issuer)","aud":"account",\
            "sub":"\(subject)","typ":"Bearer","azp":"gatehouse-web","sid":"\(sid)","scope":"openid email profile",\
            "email":"ada.lovelace@example.com","groups":[\(groupList)]}
            """,
        signatureBytes: 256, &random)
    let id = jwt(
        header: rsHeader,
        payload: """
            {"exp":\(now + 300),"iat":\(now),"auth_time":\(now),"jti":"\(uuid(&random))","iss":"\(issuer)",\
            "aud":"gatehouse-web","sub":"\(subject)","nonce":"\(uuid(&random))","sid":"\(sid)",\
            "at_hash":"x4Qb3kTn1Vq0cPz8aLmS2w","email":"ada.lovelace@example.com"}
            """,
        signatureBytes: 256, &random)
    let refresh = jwt(
        header: #"{"alg":"HS512","typ":"JWT","kid":"5c1d0f3e"}"#,
        payload: """
            {"exp":\(now + 28_800),"iat":\(now),"jti":"\(uuid(&random))","iss":"\(issuer)","sub":"\(subject)",\
            "typ":"Refresh","sid":"\(sid)"}
            """,
        signatureBytes: 32, &random)
    // What the library's token response parsing produces: the three tokens typed, every other
    // field in `raw` (TokenResponse drops the tokens from `raw` since commit 7138e23).
    let raw: [String: JSONValue] = [
        "expires_in": .number(300), "refresh_expires_in": .number(28_800), "token_type": .string("Bearer"),
        "not-before-policy": .number(0), "session_state": .string(sid), "scope": .string("openid email profile"),
    ]
    let tokens = TokenSet(
        accessToken: access, tokenType: "Bearer", expiresAt: Date().addingTimeInterval(300), refreshToken: refresh,
        idToken: id, scope: ["openid", "email", "profile"], raw: raw)
    let identity = Identity(
        issuer: issuer, subject: subject, email: "ada.lovelace@example.com", emailVerified: true, name: "Ada Lovelace",
        preferredUsername: "ada", groups: groups, sessionID: sid)
    return Login(identity: identity, tokens: tokens)
}

/// A pool of distinct logins; session `i` uses login `i % count` (each is sealed afresh).
struct Logins: Sendable {
    let all: [Login]
    init(count: Int, seed: UInt64) {
        var random = SplitMix64(state: seed)
        all = (0..<count).map { _ in makeLogin(&random) }
    }
    subscript(index: Int) -> Login { all[index % all.count] }
}

// MARK: Probe driver

/// Forwards to a real driver, counting session reads and touches and timing the last read, so
/// the benchmark can prove where each load went and split its time.
final class ProbeDriver: StorageDriver {
    struct Counts { var reads = 0, touches = 0, lastReadNanoseconds: Int64 = 0 }
    let base: any StorageDriver
    private let counts = Mutex(Counts())
    init(_ base: any StorageDriver) { self.base = base }

    var snapshot: Counts { counts.withLock { $0 } }

    func migrate() async throws { try await base.migrate() }
    func insertSession(_ row: SessionRow) async throws { try await base.insertSession(row) }
    func session(_ idHash: SessionHash) async throws -> SessionRow? {
        let start = ContinuousClock.now
        let row = try await base.session(idHash)
        let elapsed = nanoseconds(ContinuousClock.now - start)
        counts.withLock { $0.reads += 1; $0.lastReadNanoseconds = elapsed }
        return row
    }
    func touchSession(_ idHash: SessionHash, lastSeenAt: Int64, idleExpiresAt: Int64) async throws {
        counts.withLock { $0.touches += 1 }
        try await base.touchSession(idHash, lastSeenAt: lastSeenAt, idleExpiresAt: idleExpiresAt)
    }
    func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealed: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow? {
        try await base.updateTokens(
            idHash, expectedVersion: expectedVersion, sealed: sealed, absoluteExpiresAt: absoluteExpiresAt)
    }
    func deleteSession(_ idHash: SessionHash) async throws -> Bool { try await base.deleteSession(idHash) }
    func takeSession(_ idHash: SessionHash) async throws -> SessionRow? { try await base.takeSession(idHash) }
    func deleteSessions(subject: String) async throws -> [SessionHash] { try await base.deleteSessions(subject: subject) }
    func deleteSessions(idpSessionID: String) async throws -> [SessionHash] {
        try await base.deleteSessions(idpSessionID: idpSessionID)
    }
    func deleteAllSessions() async throws -> Int { try await base.deleteAllSessions() }
    func listSessions(limit: Int) async throws -> [SessionRow] { try await base.listSessions(limit: limit) }
    func countSessions(activeAt now: Int64) async throws -> Int { try await base.countSessions(activeAt: now) }
    func insertPending(_ row: PendingRow) async throws { try await base.insertPending(row) }
    func takePending(_ stateHash: SessionHash, now: Int64) async throws -> PendingRow? {
        try await base.takePending(stateHash, now: now)
    }
    func purgeExpired(now: Int64, limit: Int) async throws -> Int { try await base.purgeExpired(now: now, limit: limit) }
    func withSessionLock<T: Sendable>(_ idHash: SessionHash, _ body: @Sendable () async throws -> T) async throws -> T {
        try await base.withSessionLock(idHash, body)
    }
}

// MARK: Measurement helpers

func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Nearest-rank percentile of ascending `sorted`, in microseconds.
func percentile(_ sorted: [Int64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return Double(sorted[min(sorted.count - 1, max(0, rank - 1))]) / 1000
}

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    /// Adds one; the value before.
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// The latest value of something several tasks hand along (a session between its updates).
final class Latest<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

/// Resident set size, from /proc/self/status, in bytes.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.dropFirst("VmRSS:".count).filter(\.isNumber)
        return (Int(String(digits)) ?? 0) * 1024
    }
    return 0
}

/// Gives freed heap pages back to the kernel (glibc `malloc_trim`, looked up at run time: the
/// Glibc module does not export it), so RSS follows what is really held.
func trimHeap() {
    #if canImport(Glibc)
    typealias Trim = @convention(c) (Int) -> Int32
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
    #endif
}

/// Writes a line to standard output at once (unbuffered, so progress shows while it runs).
func emit(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func stamp() -> String {
    let elapsed = seconds(ContinuousClock.now - startedAt)
    return String(format: "[%6.1fs]", elapsed)
}

/// The 1, 5 and 15-minute load averages: the machine is shared, and tails follow its load.
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

func progress(_ message: String) { emit("\(stamp()) \(message)") }

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

func format(_ value: Double, _ digits: Int = 1) -> String { value.isNaN ? "—" : String(format: "%.\(digits)f", value) }

// MARK: Results

struct LoadRow {
    var backend: String
    var mode: String
    var stored: Int
    var loads: Int
    var misses: Int
    var reads: Int
    var touches: Int
    var total: [Int64]
    var driver: [Int64]
    var target: Double?
    var targetLabel: String
}

struct ThroughputRow {
    var operation: String
    var backend: String
    var operations: Int
    var failures: Int
    var elapsed: Double
}

struct MemoryResult {
    var backend: String
    var sessions: Int
    var cachedAfter: Int
    var rssBefore: Int
    var rssAfter: Int
}

struct Population {
    var ids: [SessionID]
    var errors: Int
    var elapsed: Double
    var cappedByTime: Bool
}

/// Everything one backend's run produces.
struct BackendReport {
    var loads: [LoadRow] = []
    var throughput: [ThroughputRow] = []
    var memory: MemoryResult?
    var population: Population?
    var notes: [String] = []
}

// MARK: Phases

let logger = Logger(label: "gatehouse.store-benchmark")
let keyRing: KeyRing = {
    do { return try KeyRing(base64Keys: [KeyRing.generateKey()]) } catch { fatalError("key ring: \(error)") }
}()

func makeStore(_ driver: any StorageDriver, cacheCapacity: Int, touchInterval: Duration = .seconds(365 * 86_400))
    -> SessionStore
{
    SessionStore(
        driver: driver, keyRing: keyRing,
        configuration: .init(touchInterval: touchInterval, cacheCapacity: cacheCapacity, cacheTTL: .seconds(3600)),
        logger: logger)
}

/// Fills the store with up to `target` sessions through concurrent `create` calls, stopping at
/// the time cap.
func populate(_ driver: any StorageDriver, label: String, logins: Logins, options: Options) async -> Population {
    let store = makeStore(driver, cacheCapacity: 0)
    let next = Counter()
    let errors = Counter()
    let target = options.sessions
    let start = ContinuousClock.now
    let deadline = start.advanced(by: .seconds(options.populateSeconds))
    let ids = await withTaskGroup(of: [SessionID].self) { group in
        for _ in 0..<options.populateConcurrency {
            group.addTask {
                var mine: [SessionID] = []
                mine.reserveCapacity(target / options.populateConcurrency + 1)
                while ContinuousClock.now < deadline {
                    let index = next.next()
                    guard index < target else { break }
                    let login = logins[index]
                    do {
                        mine.append(try await store.create(identity: login.identity, provider: "bench", tokens: login.tokens).0)
                    } catch {
                        if errors.next() < 3 { progress("\(label): create failed: \(error)") }
                    }
                }
                return mine
            }
        }
        group.addTask {
            var lastReport = ContinuousClock.now
            while next.current < target, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(250))
                if ContinuousClock.now - lastReport >= .seconds(20) {
                    lastReport = ContinuousClock.now
                    let done = min(next.current, target)
                    progress("\(label): \(done) sessions, \(Int(Double(done) / seconds(lastReport - start)))/s")
                }
            }
            return []
        }
        var all: [SessionID] = []
        all.reserveCapacity(target)
        for await part in group { all += part }
        return all
    }
    let elapsed = seconds(ContinuousClock.now - start)
    return Population(ids: ids, errors: errors.current, elapsed: elapsed, cappedByTime: ids.count + errors.current < target)
}

/// Single-caller loads of ids drawn by `pick`, each timed alone.
func measureLoads(
    store: SessionStore, probe: ProbeDriver, count: Int, warmup: Int, random: inout SplitMix64,
    pick: (inout SplitMix64) -> SessionID
) async throws -> (total: [Int64], driver: [Int64], misses: Int, reads: Int, touches: Int) {
    for _ in 0..<warmup { _ = try await store.load(pick(&random)) }
    let before = probe.snapshot
    var total: [Int64] = []
    var driver: [Int64] = []
    total.reserveCapacity(count)
    driver.reserveCapacity(count)
    var misses = 0
    var reads = before.reads
    for _ in 0..<count {
        let id = pick(&random)
        let start = ContinuousClock.now
        let session = try await store.load(id)
        let elapsed = nanoseconds(ContinuousClock.now - start)
        total.append(elapsed)
        if session == nil { misses += 1 }
        let counts = probe.snapshot
        if counts.reads != reads {
            reads = counts.reads
            driver.append(counts.lastReadNanoseconds)
        }
    }
    let after = probe.snapshot
    return (total.sorted(), driver.sorted(), misses, after.reads - before.reads, after.touches - before.touches)
}

/// `callers` concurrent loops of `operation` for `duration`; operations and failures.
func measureThroughput(
    callers: Int, duration: Double,
    _ operation: @escaping @Sendable (_ caller: Int) async throws -> (@Sendable () async throws -> Bool)
) async throws -> (operations: Int, failures: Int, elapsed: Double) {
    // Each caller first prepares (its own session, say), untimed; then all start together.
    var bodies: [@Sendable () async throws -> Bool] = []
    for caller in 0..<callers { bodies.append(try await operation(caller)) }
    let start = ContinuousClock.now
    let deadline = start.advanced(by: .seconds(duration))
    let counts = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for body in bodies {
            group.addTask {
                var done = 0
                var failed = 0
                while ContinuousClock.now < deadline {
                    if try await body() { done += 1 } else { failed += 1 }
                }
                return (done, failed)
            }
        }
        var sum = (0, 0)
        for try await (done, failed) in group { sum = (sum.0 + done, sum.1 + failed) }
        return sum
    }
    return (counts.0, counts.1, seconds(ContinuousClock.now - start))
}

func throughputRows(
    _ driver: any StorageDriver, backend: String, logins: Logins, options: Options
) async throws -> [ThroughputRow] {
    let store = makeStore(driver, cacheCapacity: 100_000)
    progress("\(backend): create throughput, \(options.callers) callers, \(options.throughputSeconds) s")
    let creates = try await measureThroughput(callers: options.callers, duration: options.throughputSeconds) { caller in
        let sequence = Counter()
        return {
            let login = logins[caller * 7919 + sequence.next()]
            _ = try await store.create(identity: login.identity, provider: "bench", tokens: login.tokens)
            return true
        }
    }
    progress("\(backend): updateTokens (CAS) throughput, \(options.callers) callers, each on its own session")
    let updates = try await measureThroughput(callers: options.callers, duration: options.throughputSeconds) { caller in
        let login = logins[caller]
        let created = try await store.create(identity: login.identity, provider: "bench", tokens: login.tokens).1
        let current = Latest(created)
        let sequence = Counter()
        return {
            let session = current.value
            let tokens = logins[caller * 104_729 + sequence.next()].tokens
            if let updated = try await store.updateTokens(session, to: tokens) {
                current.value = updated
                return true
            }
            if let reloaded = try await store.load(hash: session.idHash, bypassCache: true) {
                current.value = reloaded
            }
            return false
        }
    }
    return [
        ThroughputRow(
            operation: "create", backend: backend, operations: creates.operations, failures: creates.failures,
            elapsed: creates.elapsed),
        ThroughputRow(
            operation: "updateTokens (CAS)", backend: backend, operations: updates.operations,
            failures: updates.failures, elapsed: updates.elapsed),
    ]
}

/// Populate, then uncached / touch-due / cached loads, the cache's memory (first database
/// backend only), and write throughput.
func runDatabase(
    _ base: any StorageDriver, backend: String, logins: Logins, options: Options, measureMemory: Bool
) async throws -> BackendReport {
    var report = BackendReport()
    let probe = ProbeDriver(base)
    progress("\(backend): populating up to \(options.sessions) sessions (\(options.populateConcurrency) concurrent creates, cap \(Int(options.populateSeconds)) s)")
    let population = await populate(probe, label: backend, logins: logins, options: options)
    report.population = population
    let ids = population.ids
    progress("\(backend): stored \(ids.count) sessions in \(format(population.elapsed)) s (\(Int(Double(ids.count) / population.elapsed))/s, \(population.errors) errors)")
    guard ids.count >= 2 else { throw StoreError.unavailable.withDetail("\(backend): nothing was stored") }
    if let row = try await base.session(ids[0].hash) {
        progress("\(backend): a row holds \(row.sealedTokens.count) bytes of sealed tokens and \(row.claims.count) of claims")
    }
    var random = SplitMix64(state: 0x5EED)

    // Uncached: every load reads the database and decodes.
    let uncached = makeStore(probe, cacheCapacity: 0)
    progress("\(backend): \(options.loads) uncached loads")
    let cold = try await measureLoads(
        store: uncached, probe: probe, count: options.loads, warmup: options.warmupLoads, random: &random
    ) { ids[Int.random(in: 0..<ids.count, using: &$0)] }
    report.loads.append(
        LoadRow(
            backend: backend, mode: "off (cacheCapacity 0)", stored: ids.count, loads: options.loads, misses: cold.misses,
            reads: cold.reads, touches: cold.touches, total: cold.total, driver: cold.driver,
            target: backend == "SQLite" ? 500 : nil, targetLabel: backend == "SQLite" ? "p99 < 500 µs" : ""))

    // Touch due: the first load of a session per touchInterval (default 60 s) writes last-seen.
    let touchCount = min(options.touchLoads, ids.count)
    if touchCount > 0 {
        let touching = makeStore(probe, cacheCapacity: 0, touchInterval: .seconds(60))
        progress("\(backend): \(touchCount) uncached loads of distinct sessions idle > 60 s (touch due)")
        var cursor = 0
        let touched = try await measureLoads(
            store: touching, probe: probe, count: touchCount, warmup: 0, random: &random
        ) { _ in
            defer { cursor += 1 }
            return ids[cursor]
        }
        report.loads.append(
            LoadRow(
                backend: backend, mode: "off, touch due", stored: ids.count, loads: touchCount, misses: touched.misses,
                reads: touched.reads, touches: touched.touches, total: touched.total, driver: touched.driver, target: nil,
                targetLabel: ""))
    }

    // Cached: a warm working set of `cached` sessions, every load a hit.
    do {
        let workingSet = Array(ids.suffix(min(options.cached, ids.count)))
        let cached = makeStore(probe, cacheCapacity: workingSet.count)
        progress("\(backend): warming the cache with \(workingSet.count) sessions, then \(options.loads) cached loads")
        for id in workingSet { _ = try await cached.load(id) }
        let warm = try await measureLoads(
            store: cached, probe: probe, count: options.loads, warmup: options.warmupLoads, random: &random
        ) { workingSet[Int.random(in: 0..<workingSet.count, using: &$0)] }
        report.loads.append(
            LoadRow(
                backend: backend, mode: "on (warm, \(workingSet.count) hit set)", stored: ids.count, loads: options.loads,
                misses: warm.misses, reads: warm.reads, touches: warm.touches, total: warm.total, driver: warm.driver,
                target: 50, targetLabel: "p99 < 50 µs"))
    }

    if measureMemory {
        let sample = Array(ids.prefix(min(options.cached, ids.count)))
        let store = makeStore(probe, cacheCapacity: sample.count)
        // Warm the driver and allocator with the same path first (cache off), then trim.
        let scratch = makeStore(probe, cacheCapacity: 0)
        for id in sample.prefix(2000) { _ = try await scratch.load(id) }
        trimHeap()
        let before = residentBytes()
        progress("\(backend): memory: loading \(sample.count) sessions into an empty cache (RSS \(before / 1_048_576) MiB)")
        var found = 0
        for id in sample {
            if try await store.load(id) != nil { found += 1 }
        }
        trimHeap()
        let after = residentBytes()
        // Every one must be a hit now, and nothing evicted.
        let reads = probe.snapshot.reads
        for id in sample { _ = try await store.load(id) }
        let rereads = probe.snapshot.reads - reads
        withExtendedLifetime(store) {}
        report.memory = MemoryResult(
            backend: backend, sessions: found, cachedAfter: sample.count - rereads, rssBefore: before, rssAfter: after)
    }

    report.throughput = try await throughputRows(probe, backend: backend, logins: logins, options: options)
    return report
}

// MARK: Main

let startedAt = ContinuousClock.now
let options = Options(arguments: CommandLine.arguments)
let logins = Logins(count: 1024, seed: 42)

do {
    let sample = logins[0]
    let tokenBytes = sample.tokens.accessToken.utf8.count + (sample.tokens.refreshToken?.utf8.count ?? 0)
        + (sample.tokens.idToken?.utf8.count ?? 0)
    let claimsJSON = try JSONEncoder().encode(sample.identity).count
    emit("StoreBenchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, release build, load average \(loadAverage())")
    emit("rows: access \(sample.tokens.accessToken.utf8.count) + refresh \(sample.tokens.refreshToken?.utf8.count ?? 0) + id \(sample.tokens.idToken?.utf8.count ?? 0) = \(tokenBytes) token bytes, \(sample.tokens.raw.count) other fields in raw; claims JSON \(claimsJSON) bytes")
}

var reports: [(String, BackendReport)] = []
var failures: [String] = []

func runAll() async -> [(String, BackendReport)] {
    var reports: [(String, BackendReport)] = []
    var memoryTaken = false
    if options.backends.contains("sqlite") {
        do {
            try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
            let path = options.directory + "/sessions.sqlite"
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let driver = try SQLiteDriver(path: path)
            try await driver.migrate()
            let report = try await runDatabase(driver, backend: "SQLite", logins: logins, options: options, measureMemory: true)
            memoryTaken = true
            reports.append(("SQLite", report))
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            progress("SQLite: file \(size / 1_048_576) MiB at \(path)")
        } catch {
            progress("SQLite failed: \(error)")
        }
    }
    if options.backends.contains("postgres") {
        if let url = options.postgresURL {
            do {
                var driverOptions = PostgresDriver.Options()
                driverOptions.maximumConnections = max(20, options.populateConcurrency + 4)
                let report = try await PostgresDriver.withDriver(url: url, logger: logger, options: driverOptions) {
                    driver in
                    _ = try await driver.deleteAllSessions()
                    return try await runDatabase(
                        driver, backend: "PostgreSQL", logins: logins, options: options, measureMemory: !memoryTaken)
                }
                reports.append(("PostgreSQL", report))
            } catch {
                progress("PostgreSQL failed: \(error)")
            }
        } else {
            progress("PostgreSQL skipped: GATEHOUSE_TEST_POSTGRES_URL is not set")
        }
    }
    if options.backends.contains("memory") {
        do {
            let rows = try await throughputRows(MemoryDriver(), backend: "memory", logins: logins, options: options)
            var report = BackendReport()
            report.throughput = rows
            reports.append(("memory", report))
        } catch {
            progress("memory failed: \(error)")
        }
    }
    return reports
}

reports = await runAll()
let runTime = seconds(ContinuousClock.now - startedAt)

// MARK: Report

emit()
emit("== Stored sessions (populated with concurrent create → insertSession, one transaction each)")
for (name, report) in reports {
    guard let population = report.population else { continue }
    let reached = population.ids.count
    let verdict =
        population.cappedByTime
        ? "STOPPED at the \(Int(options.populateSeconds)) s cap: \(reached) of \(options.sessions)"
        : "all \(options.sessions)"
    emit("\(pad(name, 11)) \(pad(String(reached), 9, right: true)) sessions in \(format(population.elapsed)) s = \(Int(Double(reached) / population.elapsed)) inserts/s (\(options.populateConcurrency) concurrent, \(population.errors) errors) — \(verdict)")
}

emit()
emit("== Session load latency: single caller, random ids from the stored set, µs (nearest-rank percentiles)")
emit(pad("backend", 11) + pad("cache", 26) + pad("stored", 9, right: true) + pad("loads", 8, right: true)
    + pad("db reads", 9, right: true) + pad("touches", 8, right: true) + pad("p50", 8, right: true)
    + pad("p99", 8, right: true) + pad("p99.9", 9, right: true) + pad("max", 11, right: true)
    + pad("db p50", 8, right: true) + pad("db p99", 8, right: true) + "  target")
emit(String(repeating: "-", count: 153))
for (_, report) in reports {
    for row in report.loads {
        let p99 = percentile(row.total, 0.99)
        var verdict = ""
        if let target = row.target {
            let pass = p99 < target && row.misses == 0
            if !pass { failures.append("\(row.backend) load, cache \(row.mode): p99 \(format(p99)) µs, target \(row.targetLabel)") }
            verdict = "\(row.targetLabel) → \(pass ? "PASS" : "FAIL")"
        }
        emit(pad(row.backend, 11) + pad(row.mode, 26) + pad(String(row.stored), 9, right: true)
            + pad(String(row.loads), 8, right: true) + pad(String(row.reads), 9, right: true)
            + pad(String(row.touches), 8, right: true) + pad(format(percentile(row.total, 0.5)), 8, right: true)
            + pad(format(p99), 8, right: true) + pad(format(percentile(row.total, 0.999)), 9, right: true)
            + pad(format(percentile(row.total, 1.0)), 11, right: true)
            + pad(format(percentile(row.driver, 0.5)), 8, right: true)
            + pad(format(percentile(row.driver, 0.99)), 8, right: true) + "  " + verdict
            + (row.misses > 0 ? "  (\(row.misses) NOT FOUND)" : ""))
    }
}
emit("db p50/p99: the driver's `session(_:)` call alone (wall time around it); load minus db is the store's own work.")

emit()
emit("== Write throughput: \(options.callers) concurrent callers, \(format(options.throughputSeconds)) s each")
emit(pad("operation", 20) + pad("backend", 12) + pad("ops", 9, right: true) + pad("failed", 8, right: true)
    + pad("seconds", 9, right: true) + pad("ops/s", 10, right: true))
emit(String(repeating: "-", count: 68))
for operation in ["create", "updateTokens (CAS)"] {
    for (_, report) in reports {
        for row in report.throughput where row.operation == operation {
            emit(pad(row.operation, 20) + pad(row.backend, 12) + pad(String(row.operations), 9, right: true)
                + pad(String(row.failures), 8, right: true) + pad(format(row.elapsed, 2), 9, right: true)
                + pad(format(Double(row.operations) / row.elapsed, 0), 10, right: true))
        }
    }
}

emit()
emit("== Memory per cached session (VmRSS growth after malloc_trim, filling an empty cache)")
for (_, report) in reports {
    guard let memory = report.memory else { continue }
    let growth = memory.rssAfter - memory.rssBefore
    let perSession = Double(growth) / Double(max(1, memory.sessions))
    let pass = perSession < 2048
    if !pass { failures.append("memory per cached session \(Int(perSession)) bytes, target < 2048") }
    emit("\(memory.backend): \(memory.sessions) sessions cached (\(memory.cachedAfter) still hits on re-read), RSS \(memory.rssBefore / 1_048_576) → \(memory.rssAfter / 1_048_576) MiB: \(Int(perSession)) bytes per session; target < 2048 bytes (2 KiB) → \(pass ? "PASS" : "FAIL")")
}

emit()
emit("run time \(format(runTime)) s; load average at the end \(loadAverage())")
emit(failures.isEmpty ? "RESULT: PASS" : "RESULT: FAIL (\(failures.joined(separator: "; ")))")
