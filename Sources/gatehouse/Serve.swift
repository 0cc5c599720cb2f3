import ArgumentParser
import Foundation
import GatehouseGateway
import Logging

/// `gatehouse serve [--config FILE]`: run the gateway until SIGTERM or SIGINT, then shut down
/// gracefully (in-flight requests finish, then the HTTP client and the store close).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway (configuration from GATEHOUSE_* variables and an optional YAML file).")

    @Option(help: "A YAML file with the same settings in lower case without the GATEHOUSE_ prefix; the environment wins.")
    var config: String?

    func run() async throws {
        do {
            let configuration = try await GatewayConfiguration.load(file: config)
            let registry = Observability.bootstrap(configuration)
            let logger = Logger(label: "gatehouse")
            let gateway = try Gateway(configuration: configuration, registry: registry, logger: logger)
            logger.info(
                "gatehouse listening",
                metadata: [
                    "listen": "\(configuration.listenHost):\(configuration.listenPort)",
                    "public_url": "\(configuration.publicURL)", "upstream": "\(configuration.upstream)",
                ])
            try await gateway.application().runService()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("gatehouse: configuration: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
