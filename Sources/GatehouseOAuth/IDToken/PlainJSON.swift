/// A fast path for the small, plain JSON objects of JOSE headers and ID-token payloads.
///
/// It accepts only a strict subset of JSON on which `JSONDecoder` (decoding into
/// ``JSONValue``) is known to give exactly the same result: an object at the top level with
/// nothing around it, no duplicate keys, strings of valid UTF-8 without raw control
/// characters and with escapes other than surrogates, non-negative integers of at most 15
/// digits, `true`, `false`, `null`, and nesting up to 32 levels. For anything else it returns
/// `nil` and the caller decodes with `JSONDecoder` as before, so every acceptance, rejection
/// and error message stays `JSONDecoder`'s. It exists because `JSONValue.init(from:)` learns a
/// value's type by failing decodes, which costs more than the signature check it follows.
enum PlainJSON {
    static let maximumDepth = 32

    /// The top-level object of `bytes`, or `nil` when `bytes` is outside the subset.
    static func object(_ bytes: [UInt8]) -> [String: JSONValue]? {
        bytes.withUnsafeBufferPointer { buffer -> [String: JSONValue]? in
            var scanner = Scanner(bytes: buffer)
            guard let object = scanner.object(depth: 1), scanner.index == buffer.count else { return nil }
            return object
        }
    }

    /// The top-level object's members in order (no two keys equal), or `nil` when `bytes` is
    /// outside the subset.
    static func memberList(_ bytes: [UInt8]) -> [(key: String, value: JSONValue)]? {
        bytes.withUnsafeBufferPointer { buffer -> [(key: String, value: JSONValue)]? in
            var scanner = Scanner(bytes: buffer)
            guard let members = scanner.memberList(depth: 1), scanner.index == buffer.count else { return nil }
            return members
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        private var current: UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        private mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// An object starting at `index`, which must be `{`.
        mutating func object(depth: Int) -> [String: JSONValue]? {
            // Room for a typical ID token's claims up front, rather than growing 1, 2, 4, 8, 16.
            var object = [String: JSONValue](minimumCapacity: depth == 1 ? 24 : 0)
            // Duplicate keys are left to JSONDecoder.
            let parsed = members(depth: depth) { key, value in object.updateValue(value, forKey: key) == nil }
            return parsed ? object : nil
        }

        /// An object starting at `index` as its members in order, for small objects read once
        /// (a JOSE header), where a dictionary costs more than a linear search.
        mutating func memberList(depth: Int) -> [(key: String, value: JSONValue)]? {
            var list: [(key: String, value: JSONValue)] = []
            // Duplicate keys (by `==`, as a dictionary compares them) are left to JSONDecoder.
            let parsed = members(depth: depth) { key, value in
                guard !list.contains(where: { $0.key == key }) else { return false }
                list.append((key, value))
                return true
            }
            return parsed ? list : nil
        }

        /// Parses an object's members, handing each to `add`, which returns `false` to give up.
        private mutating func members(depth: Int, _ add: (String, JSONValue) -> Bool) -> Bool {
            guard depth <= PlainJSON.maximumDepth, current == UInt8(ascii: "{") else { return false }
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return true
            }
            while true {
                guard current == UInt8(ascii: "\"") else { return false }
                index += 1
                guard let key = string() else { return false }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { return false }
                index += 1
                skipWhitespace()
                guard let value = value(depth: depth), add(key, value) else { return false }
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","):
                    index += 1
                    skipWhitespace()
                case UInt8(ascii: "}"):
                    index += 1
                    return true
                default:
                    return false
                }
            }
        }

        private mutating func array(depth: Int) -> [JSONValue]? {
            guard depth <= PlainJSON.maximumDepth else { return nil }
            index += 1
            var array: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return array
            }
            while true {
                guard let value = value(depth: depth) else { return nil }
                array.append(value)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","):
                    index += 1
                    skipWhitespace()
                case UInt8(ascii: "]"):
                    index += 1
                    return array
                default:
                    return nil
                }
            }
        }

        private mutating func value(depth: Int) -> JSONValue? {
            guard let byte = current else { return nil }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return string().map(JSONValue.string)
            case UInt8(ascii: "{"):
                return object(depth: depth + 1).map(JSONValue.object)
            case UInt8(ascii: "["):
                return array(depth: depth + 1).map(JSONValue.array)
            case UInt8(ascii: "t"):
                return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return integer()
            default:
                // Negative numbers and anything else: JSONDecoder's business.
                return nil
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let text = word.utf8Start
            for offset in 0..<count where bytes[index + offset] != text[offset] {
                return false
            }
            index += count
            return true
        }

        /// A non-negative integer of at most 15 digits, exact as a `Double`; no fraction, no
        /// exponent, no leading zero.
        private mutating func integer() -> JSONValue? {
            let start = index
            var value = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                index += 1
                guard index - start <= 15 else { return nil }
            }
            if bytes[start] == UInt8(ascii: "0"), index - start > 1 { return nil }
            switch current {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: return .number(Double(value))
            }
        }

        /// The rest of a string whose opening quote has been consumed.
        private mutating func string() -> String? {
            let start = index
            var sawNonASCII = false
            // The common case: no escapes, straight from the input.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    return sawNonASCII ? String(validating: text, as: UTF8.self) : String(decoding: text, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { return nil }
                if byte >= 0x80 { sawNonASCII = true }
                index += 1
            }
            guard index < bytes.count else { return nil }
            // Escapes: rebuild the bytes.
            var text = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return sawNonASCII ? String(validating: text, as: UTF8.self) : String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = current else { return nil }
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                    case UInt8(ascii: "b"): text.append(0x08)
                    case UInt8(ascii: "f"): text.append(0x0C)
                    case UInt8(ascii: "n"): text.append(0x0A)
                    case UInt8(ascii: "r"): text.append(0x0D)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "u"):
                        // Surrogates (pairs or not) are left to JSONDecoder.
                        guard let code = hexQuad(), !(0xD800...0xDFFF).contains(code),
                            let scalar = Unicode.Scalar(code), let encoded = UTF8.encode(scalar)
                        else { return nil }
                        text.append(contentsOf: encoded)
                    default:
                        return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    if byte >= 0x80 { sawNonASCII = true }
                    text.append(byte)
                }
            }
            return nil
        }

        private mutating func hexQuad() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }
    }
}
