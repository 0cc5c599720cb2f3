import ArgumentParser
import Foundation

/// `gatehouse keys generate`: a fresh 256-bit key for `GATEHOUSE_ENCRYPTION_KEYS`.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage encryption keys.", subcommands: [Generate.self, Reencrypt.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a fresh random 32-byte key, base64-encoded, for GATEHOUSE_ENCRYPTION_KEYS.")

        func run() {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            print(Data(bytes).base64EncodedString())
        }
    }

    /// Re-seals every stored session with the first key of `GATEHOUSE_ENCRYPTION_KEYS`, so an
    /// old key can then be removed from the list without logging anyone out.
    struct Reencrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every stored session with the first key of GATEHOUSE_ENCRYPTION_KEYS.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let count = try await options.withStore { try await $0.reencryptAll() }
            print("re-encrypted \(count) session\(count == 1 ? "" : "s")")
        }
    }
}
