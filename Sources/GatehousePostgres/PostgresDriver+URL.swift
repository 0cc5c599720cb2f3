import GatehouseStore
import Foundation
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database?sslmode=…` URL.
struct PostgresURL: Sendable {
    /// TLS as asked by `sslmode`.
    enum TLSMode: String, Sendable {
        /// Plain TCP. The default only for loopback hosts; elsewhere it must be asked for.
        case disable
        /// TLS with full certificate and host name verification (system trust roots). Unlike
        /// libpq's `require`, the certificate is always verified; `verify-full` is a synonym.
        case require
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var tls: TLSMode

    /// Parses `text`. Errors name the problem but never repeat the URL or the password.
    init(_ text: String) throws {
        guard let components = URLComponents(string: text) else {
            throw StoreError.postgresConfiguration("not a URL (percent-encode special characters in the password)")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw StoreError.postgresConfiguration("the scheme must be postgres:// or postgresql://")
        }
        guard var host = components.host, !host.isEmpty else {
            throw StoreError.postgresConfiguration("no host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError.postgresConfiguration("no user name")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw StoreError.postgresConfiguration("the port must be from 1 to 65535")
        }
        guard components.fragment == nil else {
            throw StoreError.postgresConfiguration("a fragment (#…) is not allowed")
        }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.contains("/") else {
            throw StoreError.postgresConfiguration("the path must be just /DATABASE")
        }
        self.host = host
        self.port = port
        self.username = user
        self.password = components.password
        self.database = path.isEmpty ? nil : path
        self.tls = Self.isLoopback(host) ? .disable : .require
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw StoreError.postgresConfiguration("unsupported parameter '\(item.name)' (only sslmode)")
            }
            switch item.value {
            case "disable": self.tls = .disable
            case "require", "verify-full": self.tls = .require
            default: throw StoreError.postgresConfiguration("sslmode must be disable, require or verify-full")
            }
        }
    }

    /// Whether `host` names this machine, where plain TCP is an acceptable default.
    static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Whether `name` is a plain lower-case identifier (safe to splice into SQL unquoted).
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        let isStart = { (byte: UInt8) in byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
        return isStart(first) && name.utf8.allSatisfy { isStart($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// The postgres-nio client configuration for this URL.
    func clientConfiguration(options: PostgresDriver.Options) -> PostgresClient.Configuration {
        let tlsMode: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsMode)
        configuration.options.connectTimeout = options.connectTimeout
        configuration.options.maximumConnections = options.maximumConnections
        var parameters = [("application_name", "gatehouse")]
        if options.sendsStatementTimeout {
            parameters.append(("statement_timeout", String(options.queryTimeout.milliseconds)))
        }
        if let schema = options.schema {
            parameters.append(("search_path", schema))
        }
        configuration.options.additionalStartupParameters = parameters
        return configuration
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 (PostgreSQL reads `0` as "no timeout").
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// The same span as a NIO `TimeAmount` (zero when negative).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
