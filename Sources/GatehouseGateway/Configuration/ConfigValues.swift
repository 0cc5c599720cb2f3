import Configuration

/// Raw configuration values: the environment (`GATEHOUSE_CLIENT_ID`) first, then the YAML
/// file (`client_id`), through swift-configuration. An empty value counts as unset.
struct ConfigValues: Sendable {
    let reader: ConfigReader

    /// Values from `environment` and, when given, the YAML file at `file`.
    static func load(environment: [String: String], file: String?) async throws -> ConfigValues {
        let secrets: Set<String> = ["GATEHOUSE_CLIENT_SECRET", "GATEHOUSE_ENCRYPTION_KEYS"]
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { $0.key.hasPrefix("GATEHOUSE_") },
                secretsSpecifier: .specific(secrets))
        ]
        if let file {
            do {
                let yaml = try await FileProvider<YAMLSnapshot>(filePath: .init(file))
                // The file's keys have no prefix: `gatehouse.client_id` → `client_id`.
                providers.append(
                    yaml.mapKeys { key in AbsoluteConfigKey(Array(key.components.dropFirst()), context: key.context) })
            } catch {
                throw ConfigurationError("--config", "cannot read the YAML file \(file): \(error)")
            }
        }
        return ConfigValues(reader: ConfigReader(providers: providers))
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
