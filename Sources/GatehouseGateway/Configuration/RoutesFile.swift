import GatehouseHummingbird
import Yams

/// The YAML file's `routes:` list (DESIGN §2) as ``Route``s. Strict: an unknown or misspelt
/// field is an error (a typo must never widen access silently), and every error names the
/// route and field (`routes[1] (admin).match.path_prefix`).
enum RoutesFile {
    static let routeFields: Set<String> = [
        "name", "match", "upstream", "allow", "skip_auth", "pass_access_token", "identity_headers", "providers", "token", "require_csrf_header", "acr_values", "max_age",
    ]
    static let matchFields: Set<String> = ["host", "path_prefix", "methods"]
    static let allowFields: Set<String> = ["emails", "email_domains", "groups", "claims"]
    /// Fields of the full design that this version does not implement yet: refused by name
    /// rather than ignored.
    static let notYetSupported: Set<String> = []

    /// - Parameter providerIDs: the configured providers' ids, which a route's `providers` may name.
    /// - Parameter cookieDomain: `cookie_domain`: route hosts must be under it (else they must
    ///   be `publicHost`).
    static func routes(
        _ node: Yams.Node, publicHost: String, providerIDs: [String], cookieDomain: String? = nil
    ) throws -> [Route] {
        guard let sequence = node.sequence, !sequence.isEmpty else {
            throw ConfigurationError("routes", "must be a non-empty list of routes")
        }
        var routes: [Route] = []
        for (index, item) in sequence.enumerated() {
            var place = "routes[\(index)]"
            guard let mapping = item.mapping else { throw ConfigurationError(place, "must be a mapping") }
            if let given = mapping.first(where: { $0.key.string == "name" })?.value.string, YAMLFields.isName(given) {
                place += " (\(given))"
            }
            let fields = try YAMLFields.fields(mapping, allowed: routeFields, notYetSupported: notYetSupported, at: place)
            guard let name = fields["name"]?.string, YAMLFields.isName(name) else {
                throw ConfigurationError(place + ".name", "is required: lower-case letters, digits and -")
            }
            guard !routes.contains(where: { $0.name == name }) else {
                throw ConfigurationError(place + ".name", "is used by an earlier route")
            }
            guard let upstreamText = fields["upstream"]?.string else {
                throw ConfigurationError(place + ".upstream", "is required: the URL of the application")
            }
            var route = Route(
                name: name,
                upstream: try ConfigParsing.baseURL(upstreamText, variable: place + ".upstream", isUpstream: true))
            if let match = fields["match"] {
                try readMatch(match, into: &route, at: place + ".match", publicHost: publicHost, cookieDomain: cookieDomain)
            }
            if let allow = fields["allow"] { route.allow = try readAllow(allow, at: place + ".allow") }
            route.skipAuth = try YAMLFields.bool(fields["skip_auth"], at: place + ".skip_auth") ?? false
            route.passAccessToken = try YAMLFields.bool(fields["pass_access_token"], at: place + ".pass_access_token") ?? false
            route.identityHeaders = try YAMLFields.bool(fields["identity_headers"], at: place + ".identity_headers") ?? true
            if let providers = fields["providers"] {
                let ids = try YAMLFields.list(providers, at: place + ".providers")
                guard !ids.isEmpty else {
                    throw ConfigurationError(place + ".providers", "must name at least one provider (leave it out for all)")
                }
                for id in ids where !providerIDs.contains(id) {
                    throw ConfigurationError(
                        place + ".providers", "names \(id), which is not a provider (known: \(providerIDs.joined(separator: ", ")))")
                }
                route.providers = ids
            }
            if let token = fields["token"] { route.token = try readToken(token, at: place + ".token") }
            route.stepUp = try readStepUp(acrValues: fields["acr_values"], maxAge: fields["max_age"], at: place)
            route.requireCSRFHeader =
                try YAMLFields.bool(fields["require_csrf_header"], at: place + ".require_csrf_header") ?? false
            if route.token != .user, route.passAccessToken {
                throw ConfigurationError(
                    place + ".pass_access_token", "relays the user's token; token: \(route.token == .none ? "none" : "client_credentials") relays another or none")
            }
            routes.append(route)
        }
        if let (hidden, by) = RouteTable(routes: routes).hiddenRoutes.first {
            throw ConfigurationError(
                "routes", "route \(hidden) can never match: route \(by) comes first and takes every request it would")
        }
        return routes
    }

    private static func readMatch(
        _ node: Yams.Node, into route: inout Route, at place: String, publicHost: String, cookieDomain: String?
    ) throws {
        guard let mapping = node.mapping else { throw ConfigurationError(place, "must be a mapping") }
        let fields = try YAMLFields.fields(mapping, allowed: matchFields, notYetSupported: notYetSupported, at: place)
        if let host = fields["host"] {
            guard let text = host.string?.lowercased(), !text.isEmpty,
                text.utf8.allSatisfy({ isHostByte($0) })
            else {
                throw ConfigurationError(place + ".host", "must be a host name, like app.example.com (optionally with :port)")
            }
            let name = Route.hostName(of: text)
            if let cookieDomain {
                // The session cookie's Domain covers it, and only such hosts.
                guard name == cookieDomain || name.hasSuffix("." + cookieDomain) else {
                    throw ConfigurationError(
                        place + ".host", "must be under cookie_domain (\(cookieDomain)): the session cookie is only sent there")
                }
            } else {
                // The session cookie is host-only: a route on another host would never see it.
                guard name == Route.hostName(of: publicHost) else {
                    throw ConfigurationError(
                        place + ".host",
                        "must be the host of GATEHOUSE_PUBLIC_URL (\(publicHost)): the session cookie is only sent there "
                            + "(set cookie_domain to serve several hosts)")
                }
            }
            route.host = text
        }
        if let prefix = fields["path_prefix"] {
            guard let text = prefix.string, let segments = RoutePath.prefixSegments(text) else {
                throw ConfigurationError(
                    place + ".path_prefix", "must be a plain path like /api (letters, digits, - . _ ~ and /; no dot segments)")
            }
            route.pathPrefix = segments
        }
        if let methods = fields["methods"] {
            let names = try YAMLFields.list(methods, at: place + ".methods").map { $0.uppercased() }
            guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5A } })
            else {
                throw ConfigurationError(place + ".methods", "must be a list of HTTP methods, like [GET, POST]")
            }
            route.methods = Set(names)
        }
    }

    /// `acr_values: [mfa]` and `max_age: 300` (seconds, or a duration like `5m`).
    private static func readStepUp(acrValues: Yams.Node?, maxAge: Yams.Node?, at place: String) throws -> StepUp? {
        guard acrValues != nil || maxAge != nil else { return nil }
        var stepUp = StepUp()
        if let acrValues {
            stepUp.acrValues = try YAMLFields.list(acrValues, at: place + ".acr_values")
                .flatMap { $0.split(separator: " ").map(String.init) }
            guard !stepUp.acrValues.isEmpty else {
                throw ConfigurationError(place + ".acr_values", "must name at least one authentication level")
            }
        }
        if let maxAge {
            guard let text = maxAge.string else { throw ConfigurationError(place + ".max_age", "must be a number of seconds") }
            let seconds = Int(text) ?? (try? ConfigParsing.duration(text, variable: place + ".max_age")).map { Int($0.components.seconds) }
            guard let seconds, seconds >= 0, seconds <= 366 * 86400 else {
                throw ConfigurationError(place + ".max_age", "must be a number of seconds (or a duration like 5m)")
            }
            stepUp.maxAge = seconds
        }
        return stepUp
    }

    static let tokenFields: Set<String> = ["type", "scopes", "resource"]

    /// `token: user | none | client_credentials`, or `{type: client_credentials, scopes: […],
    /// resource: …}`.
    private static func readToken(_ node: Yams.Node, at place: String) throws -> RouteToken {
        var type = node.string
        var scopes: [String] = []
        var resources: [String] = []
        if let mapping = node.mapping {
            let fields = try YAMLFields.fields(mapping, allowed: tokenFields, at: place)
            type = fields["type"]?.string
            scopes = try fields["scopes"].map { try YAMLFields.list($0, at: place + ".scopes") } ?? []
            scopes = scopes.flatMap { $0.split(separator: " ").map(String.init) }
            resources = try fields["resource"].map { try YAMLFields.list($0, at: place + ".resource") } ?? []
            if type != "client_credentials", !scopes.isEmpty || !resources.isEmpty {
                throw ConfigurationError(place, "scopes and resource belong to type client_credentials")
            }
        }
        switch type {
        case "user": return .user
        case "none": return .none
        case "client_credentials": return .clientCredentials(scopes: scopes, resources: resources)
        default: throw ConfigurationError(place, "must be user, none or client_credentials")
        }
    }

    private static func readAllow(_ node: Yams.Node, at place: String) throws -> AccessRules {
        guard let mapping = node.mapping else { throw ConfigurationError(place, "must be a mapping") }
        let fields = try YAMLFields.fields(mapping, allowed: allowFields, notYetSupported: notYetSupported, at: place)
        return AccessRules(
            emails: try fields["emails"].map { try YAMLFields.list($0, at: place + ".emails") } ?? [],
            emailDomains: try fields["email_domains"].map { try YAMLFields.list($0, at: place + ".email_domains") } ?? [],
            groups: try fields["groups"].map { try YAMLFields.list($0, at: place + ".groups") } ?? [],
            claims: try fields["claims"].map { try readClaims($0, at: place + ".claims") } ?? [:])
    }

    /// `claims: {"org.id": "42", roles: admin}`: dotted paths to the text each must equal.
    private static func readClaims(_ node: Yams.Node, at place: String) throws -> [String: String] {
        guard let mapping = node.mapping, !mapping.isEmpty else {
            throw ConfigurationError(place, "must be a mapping of claim paths to values, like {\"org.id\": \"42\"}")
        }
        var claims: [String: String] = [:]
        for (key, value) in mapping {
            guard let path = key.string, !path.isEmpty, !path.split(separator: ".", omittingEmptySubsequences: false).contains(""),
                let text = value.scalar?.string
            else {
                throw ConfigurationError(place, "must map claim paths (a.b.c) to single values")
            }
            guard claims[path] == nil else { throw ConfigurationError("\(place).\(path)", "is given twice") }
            claims[path] = text
        }
        return claims
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default: false
        }
    }
}
