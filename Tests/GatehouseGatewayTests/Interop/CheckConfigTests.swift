import Foundation
import GatehouseTestSupport
import Testing

/// `gatehouse check-config`, run as the built binary against django-oauth-toolkit.
@Suite("gatehouse check-config")
struct CheckConfigTests {
    /// Runs `gatehouse check-config` with exactly `environment` (plus `PATH`); exit status and stdout.
    static func run(_ environment: [String: String], arguments: [String] = []) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try GatehouseCommand.executable()
        process.arguments = ["check-config"] + arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try ProcessLaunch.start(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func environment(directory: URL) throws -> [String: String] {
        [
            "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:4180",
            "GATEHOUSE_ISSUER": try DOT.issuer(),
            "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
            "GATEHOUSE_CLIENT_SECRET": DOT.secret,
            "GATEHOUSE_UPSTREAM": "http://127.0.0.1:9",
            "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
            "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
            "GATEHOUSE_IDP_TIMEOUT": "10s",
        ]
    }

    @Test func aGoodConfigurationPasses() async throws {
        try await GatehouseCommand.withDirectory { directory in
            let (status, output) = try await Self.run(try Self.environment(directory: directory))
            #expect(status == 0, "\(output)")
            for check in ["configuration", "encryption keys", "redirect URI", "cookies", "discovery", "signing keys", "store"] {
                #expect(output.split(separator: "\n").contains { $0.hasPrefix(check) && $0.contains(" ok") },
                    "\(check) in \(output)")
            }
            #expect(output.contains("http://127.0.0.1:4180/oauth2/callback"))
            #expect(output.contains("configuration OK"))
            #expect(!output.contains(DOT.secret))
        }
    }

    /// `--config` with providers: each provider's redirect URI, client authentication,
    /// discovery and keys on lines of its own; one whose issuer does not answer fails by name.
    @Test func providersAreCheckedOneByOne() async throws {
        try await GatehouseCommand.withDirectory { directory in
            var environment = try Self.environment(directory: directory)
            for name in ["ISSUER", "CLIENT_ID", "CLIENT_SECRET"] { environment["GATEHOUSE_" + name] = nil }
            let file = directory.appendingPathComponent("gatehouse.yaml")
            let providers = """
                providers:
                  - id: corp
                    issuer: \(try DOT.issuer())
                    client_id: \(DOT.confidentialClient)
                    client_secret: \(DOT.secret)
                  - id: partner
                    issuer: PARTNER
                    client_id: \(DOT.confidentialClient)
                    client_secret: \(DOT.secret)
                routes:
                  - name: vault
                    match: {path_prefix: /vault}
                    upstream: http://127.0.0.1:9001
                    providers: [corp]
                    acr_values: [mfa]
                  - name: app
                    upstream: http://127.0.0.1:9002
                """
            environment["GATEHOUSE_UPSTREAM"] = nil
            try Data(providers.replacingOccurrences(of: "PARTNER", with: try DOT.partnerIssuer()).utf8).write(to: file)
            let (status, output) = try await Self.run(environment, arguments: ["--config", file.path])
            #expect(status == 0, "\(output)")
            for id in ["corp", "partner"] {
                #expect(output.contains("provider \(id): redirect URI") && output.contains("/oauth2/callback/\(id)"), "\(output)")
                #expect(output.split(separator: "\n").contains { $0.hasPrefix("provider \(id): signing keys") && $0.contains(" ok") })
            }
            #expect(output.contains("providers corp") && output.contains("step-up acr mfa"), "\(output)")
            try Data(providers.replacingOccurrences(of: "PARTNER", with: "http://127.0.0.1:9/o").utf8).write(to: file)
            let (downStatus, down) = try await Self.run(environment, arguments: ["--config", file.path])
            #expect(downStatus != 0)
            #expect(down.contains("provider partner: discovery") && down.contains("FAIL: providers[1] (partner).issuer"), "\(down)")
        }
    }

    /// `--config` with routes: one line per route; a route an earlier one hides, or a field
    /// this version does not know, fails with the route's place.
    @Test func routesAreListedAndBadOnesNamed() async throws {
        try await GatehouseCommand.withDirectory { directory in
            var environment = try Self.environment(directory: directory)
            environment["GATEHOUSE_UPSTREAM"] = nil
            let file = directory.appendingPathComponent("gatehouse.yaml")
            func check(_ yaml: String) async throws -> (Int32, String) {
                try Data(yaml.utf8).write(to: file)
                return try await Self.run(environment, arguments: ["--config", file.path])
            }
            let (status, output) = try await check(
                """
                routes:
                  - name: admin
                    match: {path_prefix: /admin, methods: [GET]}
                    upstream: http://127.0.0.1:9001
                    allow: {groups: [staff]}
                  - name: app
                    upstream: http://127.0.0.1:9002
                """)
            #expect(status == 0, "\(output)")
            #expect(output.contains("routes") && output.contains("2, first match wins"))
            let admin = try #require(output.split(separator: "\n").first { $0.hasPrefix("route admin") })
            #expect(admin.contains("path /admin") && admin.contains("methods GET") && admin.contains("groups staff"))
            #expect(output.split(separator: "\n").contains { $0.hasPrefix("route app") && $0.contains("to http://127.0.0.1:9002") })

            let (hiddenStatus, hidden) = try await check(
                "routes:\n  - name: all\n    upstream: http://a\n  - name: api\n    match: {path_prefix: /api}\n    upstream: http://b\n")
            #expect(hiddenStatus != 0)
            #expect(hidden.contains("FAIL: routes: route api can never match: route all comes first"), "\(hidden)")

            let (typoStatus, typo) = try await check("routes:\n  - name: app\n    upstream: http://a\n    alow: {groups: [x]}\n")
            #expect(typoStatus != 0)
            #expect(typo.contains("routes[0] (app).alow"), "\(typo)")
        }
    }

    @Test func aWrongIssuerFailsNamingTheVariable() async throws {
        try await GatehouseCommand.withDirectory { directory in
            var environment = try Self.environment(directory: directory)
            environment["GATEHOUSE_ISSUER"] = try DOT.issuer() + "/wrong"
            let (status, output) = try await Self.run(environment)
            #expect(status != 0)
            let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("discovery") })
            #expect(line.contains("FAIL: GATEHOUSE_ISSUER"))
            #expect(output.contains("signing keys") && output.contains("skipped"))
        }
    }

    @Test func aShortKeyAndAMissingStoreDirectoryAreEachReported() async throws {
        try await GatehouseCommand.withDirectory { directory in
            var environment = try Self.environment(directory: directory)
            environment["GATEHOUSE_ENCRYPTION_KEYS"] = Data(repeating: 7, count: 16).base64EncodedString()
            environment["GATEHOUSE_STORE"] = "sqlite:" + directory.appendingPathComponent("missing/dir/x.db").path
            let (status, output) = try await Self.run(environment)
            #expect(status == 1)
            #expect(output.contains("FAIL: GATEHOUSE_ENCRYPTION_KEYS"))
            #expect(output.contains("FAIL: GATEHOUSE_STORE"))
            #expect(output.contains("2 problems found"))
        }
    }

    @Test func anUnloadableConfigurationFailsNamingTheVariable() async throws {
        try await GatehouseCommand.withDirectory { directory in
            var environment = try Self.environment(directory: directory)
            environment["GATEHOUSE_COOKIE_SECURE"] = "false"
            environment["GATEHOUSE_PUBLIC_URL"] = "https://app.example"
            let (status, output) = try await Self.run(environment)
            #expect(status == 1)
            #expect(output.contains("configuration") && output.contains("FAIL: GATEHOUSE_COOKIE_SECURE"))
        }
    }
}
