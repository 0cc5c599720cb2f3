import ArgumentParser

/// The `gatehouse` command line (DESIGN §2).
@main
struct Gatehouse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "An OAuth 2.0 / OpenID Connect relying party and Backend-for-Frontend auth gateway.",
        subcommands: [Serve.self, CheckConfig.self, Demo.self, DevIdP.self, Sessions.self, Keys.self, Discover.self, DebugWriteLoop.self, DebugRefreshStorm.self]
    )
}
