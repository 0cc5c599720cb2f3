import Yams

/// Reading the config file's structured sections (`routes:`, `providers:`) strictly: every
/// error names its place (`routes[1] (admin).match.path_prefix`).
enum YAMLFields {
    /// The mapping's fields by name; unknown names are refused, and so are names of the design
    /// this version does not implement (`notYetSupported`), by name.
    static func fields(
        _ mapping: Yams.Node.Mapping, allowed: Set<String>, notYetSupported: Set<String> = [], at place: String
    ) throws
        -> [String: Yams.Node]
    {
        var fields: [String: Yams.Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw ConfigurationError(place, "has a key that is not a name") }
            if notYetSupported.contains(name) {
                throw ConfigurationError("\(place).\(name)", "is not supported by this version of Gatehouse yet")
            }
            guard allowed.contains(name) else {
                throw ConfigurationError(
                    "\(place).\(name)", "is not a known field (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard fields[name] == nil else { throw ConfigurationError("\(place).\(name)", "is given twice") }
            fields[name] = value
        }
        return fields
    }

    static func list(_ node: Yams.Node, at place: String) throws -> [String] {
        if let scalar = node.scalar {
            return scalar.string.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        guard let sequence = node.sequence else { throw ConfigurationError(place, "must be a list") }
        return try sequence.map { item in
            guard let text = item.string?.trimmingWhitespace(), !text.isEmpty else {
                throw ConfigurationError(place, "must be a list of non-empty values")
            }
            return text
        }
    }

    static func bool(_ node: Yams.Node?, at place: String) throws -> Bool? {
        guard let node else { return nil }
        guard let text = node.string else { throw ConfigurationError(place, "must be true or false") }
        return try ConfigParsing.bool(text, variable: place)
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
    }
}
