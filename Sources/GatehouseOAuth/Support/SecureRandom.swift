import Foundation

/// Random values from the system CSPRNG (`SystemRandomNumberGenerator` reads getrandom(2)).
enum SecureRandom {
    /// `byteCount` random bytes, base64url-encoded without padding.
    static func token(byteCount: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for index in bytes.indices {
            bytes[index] = generator.next()
        }
        return Base64URL.encode(bytes)
    }
}
