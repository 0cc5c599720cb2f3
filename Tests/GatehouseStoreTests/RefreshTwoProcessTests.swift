import Crypto
import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two gateway processes on one PostgreSQL database find the same session expiring at the same
/// moment: 100 requests in each, one refresh grant in all. Part of the serialized
/// `RefreshTests` suite, because they count the same IdP's token requests.
extension RefreshTests {
    @Test func twoProcessesOnePostgresOneGrant() async throws {
        let binary = KillNineTests.executable
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(binary.path) is missing: run swift build first")
        let url = try RefreshDatabase.url()
        let issuer = try DOT.refreshIssuer()
        try await RefreshDatabase.withFixture { fixture in
            let client = try DOT.client(issuer: issuer)
            let login = try await DOT.login(client)
            let store = SessionStore(
                driver: fixture.driver, keyRing: try KeyRing(base64Keys: [TestKeys.first]), clock: .system,
                logger: StoreFixture.quietLogger)
            let (_, session) = try await store.create(
                identity: login.identity, provider: "oidc", tokens: RefreshTests.expired(login.tokens))

            let process = Process()
            process.executableURL = binary
            process.arguments = [
                "debug-refresh-storm", "--store", url, "--issuer", issuer, "--client-id", DOT.confidentialClient,
                "--session", session.idHash.hex, "--concurrency", "100",
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["GATEHOUSE_ENCRYPTION_KEYS"] = TestKeys.first
            environment["GATEHOUSE_CLIENT_SECRET"] = DOT.secret
            process.environment = environment
            let input = Pipe()
            let output = Pipe()
            let errors = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let pid = process.processIdentifier
            // Safety net only: never let a stuck child hang the whole test run.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(120))
                kill(pid, SIGKILL)
            }
            defer {
                watchdog.cancel()
                if process.isRunning { process.terminate() }
            }

            let reader = LineReader(descriptor: output.fileHandleForReading.fileDescriptor)
            let ready = await reader.readLines(atLeast: 1)
            try #require(
                ready.lines == ["ready"],
                "the second process did not start: \(String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self))")

            let before = try await DOT.settledRefreshTokenRequests()
            let refresher = TokenRefresher(store: store, client: client, leeway: RefreshTests.alwaysDue)
            input.fileHandleForWriting.write(Data("go\n".utf8))
            let here = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await refresher.freshSession(session).tokens.accessToken }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            let there = await reader.readLines(atLeast: Int.max).lines
            process.waitUntilExit()

            #expect(process.terminationStatus == 0)
            #expect(here.count == 1, "one token in this process")
            let fingerprint = here.first.map { "token " + Self.fingerprint($0) }
            #expect(there == [fingerprint].compactMap { $0 }, "the other process got the same single token: \(there)")
            #expect(try await DOT.refreshTokenRequests(since: before) == 1, "exactly one refresh grant for 200 requests in two processes")
            let stored = try #require(try await store.load(hash: session.idHash, bypassCache: true))
            #expect(stored.version == session.version + 1)
        }
    }

    static func fingerprint(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
