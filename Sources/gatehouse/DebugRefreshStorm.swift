import ArgumentParser
import Crypto
import Foundation
import GatehouseOAuth
import GatehouseStore

/// `gatehouse debug-refresh-storm` (hidden): the second process of the cross-process refresh
/// tests. Loads one stored session, prints `ready`, waits for `go` on stdin, then asks
/// `TokenRefresher` for fresh tokens from `--concurrency` tasks at once and prints one line per
/// distinct outcome: `token <sha256-prefix>` or `error <code>` (never a token itself). The
/// client secret comes from `GATEHOUSE_CLIENT_SECRET`, never from the command line.
///
/// With `--reload`, each task reads the session from the store just before asking (as a
/// gateway request does), task `n` starting `n × --stagger-ms` after `go`: later tasks see the
/// tokens an earlier refresh stored, and refresh them again only if they are due.
struct DebugRefreshStorm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-refresh-storm",
        abstract: "Testing aid: refresh one stored session from many tasks at once.",
        shouldDisplay: false)

    @OptionGroup var options: StoreOptions
    @Option var issuer: String
    @Option var clientID: String
    @Option(help: "The session's 64-hex id hash.") var session: String
    @Option var concurrency = 100
    @Option(help: "The refresher's leeway in seconds (default: beyond any lifetime).") var leeway = 1_000_000
    @Flag(help: "Each task reads the session from the store itself.") var reload = false
    @Option(help: "With --reload: milliseconds between task starts.") var staggerMs = 0

    func run() async throws {
        guard let clientSecret = ProcessInfo.processInfo.environment["GATEHOUSE_CLIENT_SECRET"], !clientSecret.isEmpty
        else { throw ValidationError("GATEHOUSE_CLIENT_SECRET is not set") }
        let hash = try Sessions.Revoke.hash(session)
        let client = try OAuthClient(
            provider: .oidc(issuer: issuer),
            configuration: .init(
                clientID: clientID, authentication: .clientSecretBasic(clientSecret),
                redirectURI: "http://127.0.0.1:4180/oauth2/callback"))
        let outcomes = try await options.withStore { store in
            guard let snapshot = try await store.load(hash: hash, bypassCache: true) else {
                throw ValidationError("no such session")
            }
            let refresher = TokenRefresher(store: store, client: client, leeway: .seconds(leeway))
            Self.say("ready")
            guard readLine() == "go" else { throw ValidationError("expected go") }
            return await withTaskGroup(of: String.self) { group in
                for number in 0..<concurrency {
                    group.addTask { [reload, staggerMs] in
                        do {
                            var session = snapshot
                            if reload {
                                try await Task.sleep(for: .milliseconds(number * staggerMs))
                                guard let current = try await store.load(hash: hash, bypassCache: true) else {
                                    return "error session gone"
                                }
                                session = current
                            }
                            let fresh = try await refresher.freshSession(session)
                            return "token " + Self.fingerprint(fresh.tokens.accessToken)
                        } catch {
                            return "error \(error)"
                        }
                    }
                }
                return await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
        }
        for outcome in outcomes.sorted() { Self.say(outcome) }
    }

    /// One line straight to the descriptor: stdout is a pipe here, and a buffered `print`
    /// would leave the parent waiting for `ready` forever.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func fingerprint(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
