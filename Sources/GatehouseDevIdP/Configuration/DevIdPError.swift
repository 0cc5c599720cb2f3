/// A configuration or start-up problem of the development IdP, described for a person.
public struct DevIdPError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
