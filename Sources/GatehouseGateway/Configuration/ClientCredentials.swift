import Foundation
import GatehouseOAuth

/// A provider's client credentials as configured, checked: the environment's
/// `GATEHOUSE_CLIENT_*` and a `providers:` entry's `client_*` alike. `place` names a setting in
/// errors (`CLIENT_SECRET` → `GATEHOUSE_CLIENT_SECRET` or `providers[0] (corp).client_secret`).
enum ClientCredentials {
    typealias Place = @Sendable (_ variable: String) -> String

    /// The secret given inline or in a file (not both).
    static func secret(inline: String?, file: String?, place: Place) throws -> String? {
        guard let path = file else { return inline }
        guard inline == nil else {
            throw ConfigurationError(place("CLIENT_SECRET_FILE"), "set either it or \(place("CLIENT_SECRET")), not both")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(place("CLIENT_SECRET_FILE"), "cannot read \(path)")
        }
        let secret = text.trimmingWhitespace()
        guard !secret.isEmpty else { throw ConfigurationError(place("CLIENT_SECRET_FILE"), "\(path) is empty") }
        return secret
    }

    /// The client key file read and checked now, so a bad key stops start-up.
    static func key(file: String?, keyID: String?, place: Place) throws -> ClientSigningKey? {
        guard let path = file else {
            if keyID != nil { throw ConfigurationError(place("CLIENT_KEY_ID"), "needs \(place("CLIENT_KEY_FILE"))") }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path), let pem = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(place("CLIENT_KEY_FILE"), "cannot read \(path)")
        }
        do {
            return try ClientSigningKey(pem: pem, keyID: keyID)
        } catch {
            throw ConfigurationError(place("CLIENT_KEY_FILE"), "\(path): \(error.message)")
        }
    }

    /// The authentication method asked for (lower case), checked against the credentials
    /// given; `nil` = decide later (from the provider's metadata with a secret).
    static func method(_ method: String?, hasSecret: Bool, hasKey: Bool, place: Place) throws -> String? {
        guard let method else {
            guard hasKey else { return nil }
            guard !hasSecret else {
                throw ConfigurationError(
                    place("CLIENT_AUTH"), "is required when both a client secret and \(place("CLIENT_KEY_FILE")) are set")
            }
            return "private_key_jwt"
        }
        switch method {
        case "client_secret_basic", "client_secret_post":
            guard hasSecret else {
                throw ConfigurationError(place("CLIENT_AUTH"), "\(method) needs \(place("CLIENT_SECRET")) or _FILE")
            }
        case "none": break
        case "private_key_jwt":
            guard hasKey else {
                throw ConfigurationError(place("CLIENT_AUTH"), "private_key_jwt needs \(place("CLIENT_KEY_FILE"))")
            }
        default:
            throw ConfigurationError(
                place("CLIENT_AUTH"), "must be client_secret_basic, client_secret_post, private_key_jwt or none")
        }
        if hasKey, method != "private_key_jwt" {
            throw ConfigurationError(place("CLIENT_KEY_FILE"), "is only used with \(place("CLIENT_AUTH"))=private_key_jwt")
        }
        return method
    }
}
