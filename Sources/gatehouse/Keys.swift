import ArgumentParser
import Foundation

/// `gatehouse keys generate`: a fresh 256-bit key for `GATEHOUSE_ENCRYPTION_KEYS`.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage encryption keys.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a fresh random 32-byte key, base64-encoded, for GATEHOUSE_ENCRYPTION_KEYS.")

        func run() {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            print(Data(bytes).base64EncodedString())
        }
    }
}
