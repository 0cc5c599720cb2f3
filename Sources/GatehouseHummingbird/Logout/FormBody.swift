import Foundation

/// `application/x-www-form-urlencoded` bodies (WHATWG URL §5.1): `+` is a space, `%XX` a byte.
enum FormBody {
    /// The pairs of `body`, in order; `nil` when a name or value is not valid percent-encoded
    /// UTF-8.
    static func parse(_ body: String) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for part in body.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(pieces[0]), let value = decode(pieces.count > 1 ? pieces[1] : "") else {
                return nil
            }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
