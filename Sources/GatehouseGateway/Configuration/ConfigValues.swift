import Configuration
import Foundation
import Yams

/// Raw configuration values: the environment (`GATEHOUSE_CLIENT_ID`) first, then the YAML
/// file (`client_id`), through swift-configuration. An empty value counts as unset.
struct ConfigValues {
    let reader: ConfigReader
    /// The file's `routes:` list, parsed apart (``RoutesFile``); `nil` when it has none.
    var routes: Yams.Node? = nil
    /// The file's `providers:` list, parsed apart (``ProvidersFile``); `nil` when it has none.
    var providers: Yams.Node? = nil

    /// The file's sections with structure (lists of mappings), which swift-configuration's
    /// flat keys cannot hold.
    static let structuredSections: Set<String> = ["routes", "providers"]

    /// Values from `environment` and, when given, the YAML file at `file`.
    static func load(environment: [String: String], file: String?) async throws -> ConfigValues {
        let secrets: Set<String> = ["GATEHOUSE_CLIENT_SECRET", "GATEHOUSE_ENCRYPTION_KEYS"]
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { $0.key.hasPrefix("GATEHOUSE_") },
                secretsSpecifier: .specific(secrets))
        ]
        var structured: [String: Yams.Node] = [:]
        if let file {
            let (values, sections) = try fileValues(file, secrets: secrets)
            providers.append(InMemoryProvider(name: "--config \(file)", values: values))
            structured = sections
        }
        return ConfigValues(
            reader: ConfigReader(providers: providers), routes: structured["routes"], providers: structured["providers"])
    }

    /// The YAML file's values under the keys ``string(_:secret:)`` reads (`client_id` →
    /// `gatehouse.client_id`: scalars and lists of scalars), and its structured sections.
    private static func fileValues(
        _ file: String, secrets: Set<String>
    ) throws -> ([AbsoluteConfigKey: ConfigValue], [String: Yams.Node]) {
        let text: String
        let root: Yams.Node?
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError("--config", "cannot read the YAML file \(file): \(error)")
        }
        guard let root else { return ([:], [:]) }
        guard let mapping = root.mapping else {
            throw ConfigurationError("--config", "the YAML file \(file) must be a mapping of settings")
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var sections: [String: Yams.Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.string else {
                throw ConfigurationError("--config", "every key of \(file) must be a plain name")
            }
            if structuredSections.contains(name) {
                sections[name] = value
                continue
            }
            let key = AbsoluteConfigKey(["gatehouse", name.lowercased()])
            let isSecret = secrets.contains("GATEHOUSE_" + name.uppercased())
            switch value {
            case .scalar(let scalar):
                values[key] = ConfigValue(.string(scalar.string), isSecret: isSecret)
            case .sequence(let sequence):
                let items = try sequence.map { item -> String in
                    guard let scalar = item.scalar else {
                        throw ConfigurationError("--config", "\(name) must be a value or a list of values")
                    }
                    return scalar.string
                }
                values[key] = ConfigValue(.stringArray(items), isSecret: isSecret)
            case .mapping, .alias:
                throw ConfigurationError("--config", "\(name) must be a value or a list of values, not a mapping")
            }
        }
        return (values, sections)
    }

    /// The key for a variable name without its prefix (`CLIENT_ID`).
    private func key(_ name: String) -> ConfigKey {
        ConfigKey(["gatehouse", name.lowercased()])
    }

    /// A single value, trimmed; `nil` when unset or empty.
    func string(_ name: String, secret: Bool = false) -> String? {
        if let value = reader.string(forKey: key(name), isSecret: secret) {
            let trimmed = value.trimmingWhitespace()
            return trimmed.isEmpty ? nil : trimmed
        }
        // A YAML list where a single value was expected: join it, so list-valued settings may
        // be written either way.
        if let values = reader.stringArray(forKey: key(name), isSecret: secret) {
            let joined = values.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }.joined(separator: ",")
            return joined.isEmpty ? nil : joined
        }
        return nil
    }

    /// A comma-separated list (or a YAML list): trimmed, empty entries dropped.
    func list(_ name: String, separator: Character = ",") -> [String] {
        guard let value = string(name) else { return [] }
        let separators: Set<Character> = [separator, ","]
        return value.split(whereSeparator: { separators.contains($0) }).map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty }
    }
}
