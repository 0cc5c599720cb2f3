import ArgumentParser
import Foundation
import GatehouseStore

/// `gatehouse sessions list` and `gatehouse sessions revoke`.
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and revoke stored sessions.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions, newest first.")

        @OptionGroup var options: StoreOptions

        @Option(help: "At most this many sessions.")
        var limit = 100

        func run() async throws {
            let sessions = try await options.withStore { try await $0.list(limit: limit) }
            let formatter = ISO8601DateFormatter()
            print(["SESSION", "SUBJECT", "EMAIL", "PROVIDER", "CREATED", "LAST SEEN", "EXPIRES"].joined(separator: "\t"))
            for session in sessions {
                let expires = min(session.idleExpiresAt, session.absoluteExpiresAt)
                print(
                    [
                        session.idHash.hex, session.subject, session.email ?? "-", session.provider,
                        formatter.string(from: session.createdAt), formatter.string(from: session.lastSeenAt),
                        formatter.string(from: expires),
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End sessions: one (--id), all of a user (--subject), or every session (--all).")

        @OptionGroup var options: StoreOptions

        @Option(help: "A session: the 64-hex hash shown by `sessions list`, or the cookie value.")
        var id: String?

        @Option(help: "Every session of this subject (sign out everywhere).")
        var subject: String?

        @Flag(help: "Every session.")
        var all = false

        func validate() throws {
            let chosen = [id != nil, subject != nil, all].filter { $0 }.count
            guard chosen == 1 else { throw ValidationError("give exactly one of --id, --subject or --all") }
        }

        func run() async throws {
            let count: Int
            if let id {
                let hash = try Self.hash(id)
                count = try await options.withStore { try await $0.delete(hash) ? 1 : 0 }
            } else if let subject {
                count = try await options.withStore { try await $0.deleteAll(subject: subject) }
            } else {
                count = try await options.withStore { try await $0.deleteEverything() }
            }
            print("revoked \(count) session\(count == 1 ? "" : "s")")
        }

        static func hash(_ id: String) throws -> SessionHash {
            if let cookie = SessionID(cookieValue: id) { return cookie.hash }
            guard let hash = SessionHash(hex: id) else {
                throw ValidationError("--id must be a 64-hex session hash or a session cookie value")
            }
            return hash
        }
    }
}
