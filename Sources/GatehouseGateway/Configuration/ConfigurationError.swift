/// A configuration problem, naming the variable at fault (never its value when secret).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variable name (`GATEHOUSE_UPSTREAM`); the YAML key is its lower-case
    /// form without the prefix.
    public let variable: String
    public let message: String

    public init(_ variable: String, _ message: String) {
        self.variable = variable
        self.message = message
    }

    public var description: String { "\(variable): \(message)" }
}
