/// base64url without padding (RFC 4648 §5), as JOSE and PKCE use it.
///
/// Both directions work on bytes with lookup tables: they sit on the ID-token hot path
/// (three decodes per token and the `at_hash` encode), where Foundation's base64 and string
/// replacing cost more than the signature check.
enum Base64URL {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let input = Array(bytes)
        let outputCount = (input.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: outputCount) { output in
            alphabet.withUnsafeBufferPointer { alphabet in
                var written = 0
                var index = 0
                while index + 3 <= input.count {
                    let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                    output[written] = alphabet[Int(chunk >> 18)]
                    output[written + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    output[written + 2] = alphabet[Int(chunk >> 6 & 0x3F)]
                    output[written + 3] = alphabet[Int(chunk & 0x3F)]
                    written += 4
                    index += 3
                }
                switch input.count - index {
                case 1:
                    let chunk = UInt32(input[index]) << 16
                    output[written] = alphabet[Int(chunk >> 18)]
                    output[written + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    written += 2
                case 2:
                    let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
                    output[written] = alphabet[Int(chunk >> 18)]
                    output[written + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    output[written + 2] = alphabet[Int(chunk >> 6 & 0x3F)]
                    written += 3
                default:
                    break
                }
                return written
            }
        }
    }

    /// Decodes unpadded base64url; `nil` for anything else (padding, `+`, `/`, whitespace,
    /// a length no encoder produces, or non-zero trailing bits).
    static func decode(_ text: Substring) -> [UInt8]? {
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode($0) }) {
            return decoded
        }
        // Text that is not contiguous UTF-8 (a bridged string): copy, then decode.
        return Array(text.utf8).withUnsafeBufferPointer { decode($0) }
    }

    /// Decodes unpadded base64url from UTF-8 bytes, by the same rules as the `Substring` overload.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // 6 leftover bits means a length of 4n+1, which no encoder produces.
        let remainder = text.count % 4
        guard remainder != 1 else { return nil }
        let outputCount = text.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        return table.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { output, initialized in
                var invalid: UInt8 = 0
                var written = 0
                var index = 0
                while index + 4 <= text.count {
                    let a = table[Int(text[index])]
                    let b = table[Int(text[index + 1])]
                    let c = table[Int(text[index + 2])]
                    let d = table[Int(text[index + 3])]
                    invalid |= (a | b | c | d) & 0x80
                    let chunk = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    output[written] = UInt8(truncatingIfNeeded: chunk >> 16)
                    output[written + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
                    output[written + 2] = UInt8(truncatingIfNeeded: chunk)
                    written += 3
                    index += 4
                }
                switch remainder {
                case 2:
                    let a = table[Int(text[index])]
                    let b = table[Int(text[index + 1])]
                    invalid |= (a | b) & 0x80
                    // The 4 bits past the last byte must be zero.
                    if b & 0x0F != 0 { invalid |= 0x80 }
                    output[written] = UInt8(truncatingIfNeeded: UInt32(a) << 2 | UInt32(b) >> 4)
                    written += 1
                case 3:
                    let a = table[Int(text[index])]
                    let b = table[Int(text[index + 1])]
                    let c = table[Int(text[index + 2])]
                    invalid |= (a | b | c) & 0x80
                    // The 2 bits past the last byte must be zero.
                    if c & 0x03 != 0 { invalid |= 0x80 }
                    let chunk = UInt32(a) << 12 | UInt32(b) << 6 | UInt32(c)
                    output[written] = UInt8(truncatingIfNeeded: chunk >> 10)
                    output[written + 1] = UInt8(truncatingIfNeeded: chunk >> 2)
                    written += 2
                default:
                    break
                }
                initialized = written
                valid = invalid == 0
            }
            return valid ? output : nil
        }
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Each byte's 6-bit value, or 0xFF for a byte outside the alphabet.
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()
}
