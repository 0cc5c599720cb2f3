import ArgumentParser
import Foundation
import GatehouseGateway
import Logging

/// `gatehouse check-config [--config FILE]` (DESIGN §2): loads the configuration exactly as
/// `serve` does, then checks keys, redirect URI, cookies, discovery, JWKS and the store. One
/// line per check; exit status 1 when any check fails, 0 when all pass.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration, fetch discovery and the JWKS, open the store; print a report.")

    @Option(help: "A YAML file with the same settings in lower case without the GATEHOUSE_ prefix; the environment wins.")
    var config: String?

    func run() async throws {
        var logger = Logger(label: "gatehouse.check-config")
        logger.logLevel = .critical
        let results = await ConfigurationCheck.run(file: config, logger: logger)
        for result in results { print(result) }
        let failures = results.filter { $0.status == .failed }.count
        if failures == 0 {
            print("configuration OK")
        } else {
            print("\(failures) problem\(failures == 1 ? "" : "s") found")
            throw ExitCode(1)
        }
    }
}
