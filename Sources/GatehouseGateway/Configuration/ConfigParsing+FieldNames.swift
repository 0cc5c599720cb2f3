extension ConfigParsing {
    /// Header field names (RFC 9110 §5.1: a token), lower-cased.
    static func fieldNames(_ names: [String], variable: String) throws -> [String] {
        try names.map { name in
            guard name.utf8.allSatisfy(isTokenByte) else {
                throw ConfigurationError(variable, "\"\(name)\" is not a header field name")
            }
            return name.lowercased()
        }
    }

    /// `tchar` (RFC 9110 §5.6.2).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
