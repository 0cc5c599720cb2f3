import Crypto

/// A session id: 256 bits from the system CSPRNG, base64url in the cookie. Only its SHA-256
/// (``SessionHash``) is ever stored, so a database leak yields no usable cookie.
public struct SessionID: Sendable, Hashable {
    /// The cookie value (43 base64url characters).
    public let value: String

    /// A new random id. Every login gets one (no session fixation).
    public static func generate() -> SessionID {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return SessionID(unchecked: Base64URLText.encode(bytes))
    }

    /// An id read from a cookie: exactly 43 base64url characters, else `nil`.
    public init?(cookieValue: String) {
        guard cookieValue.utf8.count == 43, cookieValue.utf8.allSatisfy(Base64URLText.isAlphabet) else { return nil }
        self.value = cookieValue
    }

    private init(unchecked value: String) {
        self.value = value
    }

    /// The hash under which the session is stored.
    public var hash: SessionHash { SessionHash(of: value) }
}

extension SessionID: CustomStringConvertible {
    /// Never prints the id itself.
    public var description: String { "SessionID(\(hash.shortDescription))" }
}

/// SHA-256 of a secret (session id, `state`, browser binding): what the store keys rows by.
public struct SessionHash: Sendable, Hashable, CustomStringConvertible {
    /// 32 bytes.
    public let bytes: [UInt8]

    public init(of secret: String) {
        self.bytes = Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Restores a stored hash; `nil` unless exactly 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hex digits (either case); `nil` for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Lower-case hex of all 32 bytes (safe to show: it cannot be turned back into a cookie).
    public var hex: String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }

    /// The first 12 hex digits, for logs.
    public var shortDescription: String { String(hex.prefix(12)) }

    public var description: String { shortDescription }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

/// base64url without padding, for ids made here.
enum Base64URLText {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let value = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(value >> 18 & 0x3F)])
            output.append(alphabet[Int(value >> 12 & 0x3F)])
            if remaining > 1 { output.append(alphabet[Int(value >> 6 & 0x3F)]) }
            if remaining > 2 { output.append(alphabet[Int(value & 0x3F)]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
