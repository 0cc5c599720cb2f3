import Foundation
import Hummingbird

/// What the upstream learned from the gateway about the current request.
struct Whoami: Encodable, Sendable {
    /// The identity headers (DESIGN §2) as received; absent ones are left out.
    var headers: [String: String] = [:]
    /// The access token's payload claims (decoded, not verified: display only), when the
    /// gateway sent `Authorization: Bearer <JWT>`.
    var accessTokenClaims: [String: ClaimValue]?
    /// `true` when an `Authorization: Bearer` header arrived.
    var hasAccessToken = false

    static let identityHeaders = [
        "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Groups", "X-Forwarded-Provider",
    ]

    enum CodingKeys: String, CodingKey {
        case headers, accessTokenClaims = "access_token_claims", hasAccessToken = "has_access_token"
    }

    init(_ request: Request) {
        for name in Self.identityHeaders {
            if let field = HTTPFields.Element.Name(name), let value = request.headers[field] { headers[name] = value }
        }
        if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            hasAccessToken = true
            accessTokenClaims = Self.claims(ofJWT: String(authorization.dropFirst(7)))
        }
    }

    /// The payload of a compact JWS as a flat object, or `nil` when it is not one.
    static func claims(ofJWT token: String) -> [String: ClaimValue]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]) else { return nil }
        return try? JSONDecoder().decode([String: ClaimValue].self, from: Data(payload))
    }
}

/// A JSON value, kept for display.
enum ClaimValue: Codable, Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([ClaimValue])
    case object([String: ClaimValue])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ClaimValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ClaimValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    var description: String {
        switch self {
        case .string(let value): value
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .bool(let value): String(value)
        case .array(let values): values.map(\.description).joined(separator: ", ")
        case .object(let members): "{" + members.keys.sorted().joined(separator: ", ") + "}"
        case .null: "null"
        }
    }
}
