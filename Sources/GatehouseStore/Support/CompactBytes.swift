/// Appends values to a byte buffer in the store's compact binary layout: unsigned LEB128
/// lengths and counts, UTF-8 strings prefixed by their length, 64-bit values little-endian.
///
/// Used for the sealed session plaintext (``SessionPayload``, ``TokenSetFormat``) and for
/// cached sessions (one buffer instead of a dozen heap strings).
struct CompactWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Makes room for `count` more bytes.
    mutating func reserve(_ count: Int) {
        bytes.reserveCapacity(bytes.count + count)
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func length(_ value: Int) {
        var remaining = UInt64(max(0, value))
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            length(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func data(_ value: some Collection<UInt8>) {
        length(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func double(_ value: Double) {
        uint64(value.bitPattern)
    }

    mutating func int64(_ value: Int64) {
        uint64(UInt64(bitPattern: value))
    }
}

/// Reads what ``CompactWriter`` wrote. Every read is bounds-checked: malformed input throws
/// ``StoreError/corrupt``, it never traps.
struct CompactReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw Self.truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func length() throws -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            value |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { break }
            shift += 7
            guard shift < 35 else { throw StoreError.corrupt.withDetail("compact value: length too large") }
        }
        guard value <= UInt64(bytes.count - offset) else { throw Self.truncated }
        return Int(value)
    }

    mutating func string() throws -> String {
        let count = try length()
        defer { offset += count }
        return bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]), as: UTF8.self)
        }
    }

    mutating func data() throws -> ArraySlice<UInt8> {
        let count = try length()
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Skips one length-prefixed value.
    mutating func skip() throws {
        offset += try length()
    }

    mutating func uint64() throws -> UInt64 {
        guard bytes.count - offset >= 8 else { throw Self.truncated }
        var value: UInt64 = 0
        for index in 0..<8 {
            value |= UInt64(bytes[offset + index]) << UInt64(8 * index)
        }
        offset += 8
        return value
    }

    mutating func double() throws -> Double {
        Double(bitPattern: try uint64())
    }

    mutating func int64() throws -> Int64 {
        Int64(bitPattern: try uint64())
    }

    private static var truncated: StoreError { StoreError.corrupt.withDetail("compact value: truncated") }
}
