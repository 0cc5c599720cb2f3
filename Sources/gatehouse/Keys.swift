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
    /// old key can then be removed from the list without logging anyone out; also seals the
    /// rows written before the identity was sealed (schema 2) in the current form.
    struct Reencrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every stored session with the first key of GATEHOUSE_ENCRYPTION_KEYS.",
            discussion: """
                Sessions stored before the identity was sealed (before schema 2) are sealed in the \
                current form when the ID token stored with them states every claim they hold; others \
                are left alone and not served (their users sign in again). --trust-legacy-claims seals \
                those too, as they stand: use it only if nobody but Gatehouse could write to the \
                database while they were stored.
                """)

        @OptionGroup var options: StoreOptions

        @Flag(help: "Also seal sessions from before schema 2 whose claims no stored ID token vouches for.")
        var trustLegacyClaims = false

        func run() async throws {
            let report = try await options.withStore {
                try await $0.reencryptAll(trustingLegacyClaims: trustLegacyClaims)
            }
            print("re-encrypted \(report.resealed) session\(report.resealed == 1 ? "" : "s")")
            if report.upgraded > 0 {
                print("sealed \(report.upgraded) session\(report.upgraded == 1 ? "" : "s") from before schema 2")
            }
            if report.skipped > 0 {
                print(
                    "left \(report.skipped) session\(report.skipped == 1 ? "" : "s") as stored (cannot be opened or verified; see the log)"
                )
            }
        }
    }
}
