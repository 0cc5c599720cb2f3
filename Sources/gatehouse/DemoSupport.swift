import AsyncHTTPClient
import Foundation
import GatehouseDevIdP
import GatehouseGateway
import ServiceLifecycle

/// A service whose `run()` is a closure (the IdP, the whoami app).
struct ClosureService: Service {
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await body()
    }
}

extension BackchannelLogoutSender {
    /// Logout tokens POSTed with the shared AsyncHTTPClient, 5 seconds per delivery.
    static let asyncHTTPClient = BackchannelLogoutSender { url, body in
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(Array(body.utf8))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}

/// Parses a duration flag (`30s`, `5m`, `8h`, `7d`).
func parseDuration(_ text: String, flag: String) throws -> Duration {
    guard let duration = DurationText.parse(text) else {
        throw DevIdPError("\(flag) \(text): expected a duration such as 30s, 5m, 8h or 7d")
    }
    return duration
}

/// The test users, one per line, after a heading.
func usersText(_ users: [TestUser]) -> String {
    var text = "Test users:\n"
    for user in users {
        text += "  \(user.username) / \(user.password)"
        if let email = user.email { text += "  <\(email)>" }
        if !user.groups.isEmpty { text += "  groups: \(user.groups.joined(separator: ", "))" }
        text += "\n"
    }
    return text
}
