/// `application/x-www-form-urlencoded` (WHATWG URL §5), the body format of every OAuth request.
enum FormEncoding {
    /// Encodes pairs in order; keys with `nil` values are left out. `spaceAsPlus: false`
    /// writes `%20`, which strict RFC 3986 query parsers also read as a space (for URLs).
    static func encode(_ pairs: [(String, String?)], spaceAsPlus: Bool = true) -> String {
        var output = ""
        for (key, value) in pairs {
            guard let value else { continue }
            if !output.isEmpty { output.append("&") }
            output.append(escape(key, spaceAsPlus: spaceAsPlus))
            output.append("=")
            output.append(escape(value, spaceAsPlus: spaceAsPlus))
        }
        return output
    }

    /// Escapes one component: alphanumerics and `*-._` stay, space becomes `+`, the rest `%XX`.
    static func escape(_ text: String, spaceAsPlus: Bool = true) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "-"),
                UInt8(ascii: "."), UInt8(ascii: "_"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " ") where spaceAsPlus:
                output.append("+")
            default:
                output.append("%")
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return output
    }

    /// Decodes a form or query string; `nil` on a broken `%` escape or invalid UTF-8.
    /// A key given twice yields both pairs: callers decide whether that is allowed.
    static func decode(_ text: Substring) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = unescape(pieces[0]) else { return nil }
            let value = pieces.count > 1 ? unescape(pieces[1]) : ""
            guard let value else { return nil }
            pairs.append((key, value))
        }
        return pairs
    }

    static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let hexDigits: [Character] = Array("0123456789ABCDEF")
}
