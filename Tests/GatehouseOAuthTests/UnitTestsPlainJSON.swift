import Foundation
import Testing

@testable import GatehouseOAuth

/// `PlainJSON` (the ID-token fast path) must agree with `JSONDecoder` on everything it accepts,
/// and decline (return nil) rather than guess on anything unusual.
@Suite("PlainJSON agrees with JSONDecoder")
struct UnitTestsPlainJSON {
    /// A small deterministic generator, so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments: [String] = [
        #""a""#, #""""#, #""\u00e9\n\t\"\\/""#, #""\ud83d\ude00""#, #""é€😀""#, "0", "7", "1700000000", "-3", "1.5",
        "1e3", "01", "123456789012345", "1234567890123456", "true", "false", "null", "[]", "[1,\"x\",null]",
        #"{"k":"v"}"#, "{}", #""\u0000""#,
    ]

    func randomDocument(_ rng: inout SplitMix) -> String {
        let keys = ["iss", "sub", "aud", "exp", "nonce", "é", "a\\u0062", "groups", "x"]
        var members: [String] = []
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            let key = keys.randomElement(using: &rng) ?? "k"
            let value = Self.fragments.randomElement(using: &rng) ?? "null"
            let space = Bool.random(using: &rng) ? " " : ""
            members.append("\"\(key)\"\(space):\(space)\(value)")
        }
        var text = "{" + members.joined(separator: ",") + "}"
        // Sometimes break it: flip, drop or insert a byte.
        if Int.random(in: 0..<4, using: &rng) == 0, !text.isEmpty {
            var bytes = Array(text.utf8)
            let index = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes.remove(at: index)
            default: bytes.insert(UInt8(ascii: Bool.random(using: &rng) ? "," : "\""), at: index)
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        return text
    }

    @Test func agreesOnTwentyThousandGeneratedDocuments() {
        var rng = SplitMix(state: 0x6761_7465_686F_7573)
        var accepted = 0
        for _ in 0..<20_000 {
            let bytes = Array(randomDocument(&rng).utf8)
            guard let fast = PlainJSON.object(bytes) else { continue }
            accepted += 1
            let reference = try? JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
            #expect(fast == reference, "\(String(decoding: bytes, as: UTF8.self))")
        }
        // The fast path must actually be exercised, not decline everything.
        #expect(accepted > 5_000)
    }

    @Test func declinesWhatItDoesNotModel() {
        for text in [#"{"a":1,"a":2}"#, #"{"a":1.5}"#, #"{"a":-1}"#, "[1]", #"{"a":1} "#, #" {"a":1}"#, #"{"a":"\ud800"}"#] {
            #expect(PlainJSON.object(Array(text.utf8)) == nil, "\(text)")
        }
    }
}
