import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseSQLite
import GatehousePostgres
import Logging

extension ConfigurationCheck {
    /// Discovery (fetched with `GATEHOUSE_IDP_TIMEOUT` and checked: issuer, endpoints), then
    /// the JWKS's signing key ids.
    static func identityProvider(
        _ provider: ProviderSettings, configuration: GatewayConfiguration, logger: Logger
    ) async -> [Result] {
        let variable = provider.place(provider.issuer == nil ? (provider.id == "default" ? "PROVIDER" : "PRESET") : "ISSUER")
        let client: OAuthClient
        do {
            client = try provider.makeOAuthClient(gateway: configuration, endpointOverrides: .init(), logger: logger)
        } catch let error as ConfigurationError {
            return [.failed("discovery", error.description), skipped("signing keys", "no OAuth client")]
        } catch {
            return [.failed("discovery", "\(error)"), skipped("signing keys", "no OAuth client")]
        }
        let metadata: ProviderMetadata
        do {
            metadata = try await client.metadata()
        } catch {
            return [.failed("discovery", "\(variable): \(error)"), skipped("signing keys", "discovery failed")]
        }
        var found = "issuer \(metadata.issuer)"
        if metadata.pushedAuthorizationRequestEndpoint != nil {
            found += metadata.requirePushedAuthorizationRequests == true ? "; PAR required" : "; PAR offered"
        }
        if provider.pushedAuthorization == .always, metadata.pushedAuthorizationRequestEndpoint == nil {
            return [
                .failed("discovery", "\(provider.place("PAR")): always, but the provider has no pushed_authorization_request_endpoint"),
                skipped("signing keys", "configuration"),
            ]
        }
        if let profile = provider.profile {
            let missing = profile.shortcomings(
                of: metadata, clientAlgorithm: client.configuration.authentication.signingAlgorithm)
            guard missing.isEmpty else {
                return [
                    .failed(
                        "discovery",
                        "\(provider.place("PROFILE")): \(profile.rawValue), but the provider lacks what it needs: "
                            + missing.joined(separator: "; ")),
                    skipped("signing keys", "configuration"),
                ]
            }
            found += "; meets \(profile.rawValue)"
        }
        let discovery = Result.ok("discovery", found)
        guard client.provider.isOpenIDConnect else {
            return [discovery, skipped("signing keys", "\(client.provider.name) issues no ID tokens")]
        }
        do {
            let keyIDs = try await client.signingKeyIDs()
            guard !keyIDs.isEmpty else {
                return [discovery, .failed("signing keys", "\(variable): the JWKS holds no usable signing key")]
            }
            return [discovery, .ok("signing keys", keyIDs.map { $0 ?? "(no kid)" }.joined(separator: ", "))]
        } catch {
            return [discovery, .failed("signing keys", "\(variable): \(error)")]
        }
    }

    /// The store opens as `serve` opens it (pending migrations applied) and answers a count,
    /// within `deadline`. A SQLite file that does not exist yet is not created: its directory
    /// must be writable.
    static func store(_ configuration: GatewayConfiguration, deadline: Duration, logger: Logger) async -> Result {
        switch configuration.store {
        case .sqlite(let path):
            let directory = (path as NSString).deletingLastPathComponent
            let manager = FileManager.default
            guard manager.fileExists(atPath: path) else {
                let parent = directory.isEmpty ? "." : directory
                guard manager.isWritableFile(atPath: parent) else {
                    return .failed("store", "GATEHOUSE_STORE: the directory \(parent) does not exist or is not writable")
                }
                return .ok("store", "sqlite:\(path) will be created")
            }
            guard manager.isWritableFile(atPath: path) else {
                return .failed("store", "GATEHOUSE_STORE: \(path) is not writable")
            }
            return await bounded("store", deadline: deadline) {
                let driver = try SQLiteDriver(path: path)
                try await driver.migrate()
                let active = try await driver.countSessions(activeAt: Int64(Date().timeIntervalSince1970 * 1000))
                return "sqlite:\(path), \(active) active session\(active == 1 ? "" : "s")"
            }
        case .postgres(let url):
            return await bounded("store", deadline: deadline) {
                try await PostgresDriver.withDriver(url: url, logger: logger) { driver in
                    let active = try await driver.countSessions(activeAt: Int64(Date().timeIntervalSince1970 * 1000))
                    return "PostgreSQL reachable, \(active) active session\(active == 1 ? "" : "s")"
                }
            }
        }
    }

    /// Runs `work` with a deadline; its answer is the `ok` detail, an error or the deadline a
    /// failure naming `GATEHOUSE_STORE`.
    private static func bounded(
        _ name: String, deadline: Duration, _ work: @escaping @Sendable () async throws -> String
    ) async -> Result {
        await withTaskGroup(of: Result?.self) { group in
            group.addTask {
                do {
                    return .ok(name, try await work())
                } catch let error as StoreError {
                    return .failed(name, "GATEHOUSE_STORE: \(error)")
                } catch {
                    return .failed(name, "GATEHOUSE_STORE: \(type(of: error))")
                }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return Task.isCancelled ? nil : .failed(name, "GATEHOUSE_STORE: no answer within \(deadline)")
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let result = next { return result }
            }
            return .failed(name, "GATEHOUSE_STORE: cancelled")
        }
    }

    static func skipped(_ name: String, _ reason: String) -> Result {
        Result(name: name, status: .skipped, detail: reason)
    }
}
