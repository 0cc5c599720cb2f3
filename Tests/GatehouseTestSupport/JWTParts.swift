public import Foundation

/// The parts of a compact JWS for tests to look at or tamper with: base64url, and the header and
/// claims as JSON objects. Nothing here verifies a signature.
public enum JWTParts {
    /// base64url without padding (RFC 7515 §2).
    public static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A JSON object as a base64url segment.
    public static func encodeJSON(_ object: [String: Any]) throws -> String {
        encode(try JSONSerialization.data(withJSONObject: object))
    }

    /// The bytes of a base64url segment, padded or not.
    public static func decode(_ segment: some StringProtocol) -> Data? {
        var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// A base64url segment holding a JSON object.
    public static func decodeJSON(_ segment: some StringProtocol) -> [String: Any]? {
        decode(segment).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// The header of a compact JWS.
    public static func header(_ jws: String) -> [String: Any]? {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 ? decodeJSON(parts[0]) : nil
    }

    /// The claims of a compact JWS.
    public static func claims(_ jws: String) -> [String: Any]? {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 ? decodeJSON(parts[1]) : nil
    }
}
