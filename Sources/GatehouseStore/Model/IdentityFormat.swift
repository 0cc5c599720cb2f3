import Foundation
import GatehouseOAuth

/// An ``Identity`` in binary (``CompactWriter``), as the sealed session (``SessionPayload``)
/// and the cache (``CachedSession``) hold it:
///
///     flags | issuer | subject | [email] | [name] | [preferred username] | groups | [sid]
///           | [auth context] | [claims]
///
/// `flags`: 1 email, 2 `email_verified` stated, 4 `email_verified` true, 8 name, 16 preferred
/// username, 32 sid, 64 claims, 128 auth context. `groups` is a count and then its strings.
/// The auth context is a byte (1 acr, 2 auth time), the `acr` string, the auth time in
/// milliseconds since 1970. `claims` is a count and then, per path, the path, a count and the
/// values. Identities without the last two (written before step-up and claim rules) read the
/// same.
enum IdentityFormat {
    private static let hasEmail: UInt8 = 1
    private static let hasEmailVerified: UInt8 = 2
    private static let emailVerified: UInt8 = 4
    private static let hasName: UInt8 = 8
    private static let hasPreferredUsername: UInt8 = 16
    private static let hasSessionID: UInt8 = 32
    private static let hasClaims: UInt8 = 64
    private static let hasAuthContext: UInt8 = 128
    private static let hasACR: UInt8 = 1
    private static let hasAuthTime: UInt8 = 2

    /// About how many bytes `identity` takes (a capacity hint).
    static func estimatedSize(of identity: Identity) -> Int {
        var size = 24 + identity.issuer.utf8.count + identity.subject.utf8.count
        size += (identity.email?.utf8.count ?? 0) + (identity.name?.utf8.count ?? 0)
        size += (identity.preferredUsername?.utf8.count ?? 0) + (identity.sessionID?.utf8.count ?? 0)
        size += (identity.acr?.utf8.count ?? 0) + 12
        for group in identity.groups { size += 2 + group.utf8.count }
        for (path, values) in identity.claims {
            size += 4 + path.utf8.count
            for value in values { size += 2 + value.utf8.count }
        }
        return size
    }

    static func write(_ identity: Identity, into writer: inout CompactWriter) {
        var flags: UInt8 = 0
        if identity.email != nil { flags |= hasEmail }
        if let verified = identity.emailVerified {
            flags |= hasEmailVerified
            if verified { flags |= emailVerified }
        }
        if identity.name != nil { flags |= hasName }
        if identity.preferredUsername != nil { flags |= hasPreferredUsername }
        if identity.sessionID != nil { flags |= hasSessionID }
        if !identity.claims.isEmpty { flags |= hasClaims }
        if identity.acr != nil || identity.authTime != nil { flags |= hasAuthContext }
        writer.byte(flags)
        writer.string(identity.issuer)
        writer.string(identity.subject)
        if let email = identity.email { writer.string(email) }
        if let name = identity.name { writer.string(name) }
        if let preferredUsername = identity.preferredUsername { writer.string(preferredUsername) }
        writer.length(identity.groups.count)
        for group in identity.groups { writer.string(group) }
        if let sessionID = identity.sessionID { writer.string(sessionID) }
        if flags & hasAuthContext != 0 {
            writer.byte((identity.acr != nil ? hasACR : 0) | (identity.authTime != nil ? hasAuthTime : 0))
            if let acr = identity.acr { writer.string(acr) }
            if let authTime = identity.authTime { writer.int64(Int64((authTime.timeIntervalSince1970 * 1000).rounded())) }
        }
        if flags & hasClaims != 0 {
            // Sorted: the same identity always seals to the same bytes.
            writer.length(identity.claims.count)
            for (path, values) in identity.claims.sorted(by: { $0.key < $1.key }) {
                writer.string(path)
                writer.length(values.count)
                for value in values { writer.string(value) }
            }
        }
    }

    static func read(from reader: inout CompactReader) throws -> Identity {
        let flags = try reader.byte()
        let issuer = try reader.string()
        let subject = try reader.string()
        let email = flags & hasEmail != 0 ? try reader.string() : nil
        let name = flags & hasName != 0 ? try reader.string() : nil
        let preferredUsername = flags & hasPreferredUsername != 0 ? try reader.string() : nil
        let count = try reader.length()
        var groups: [String] = []
        groups.reserveCapacity(count)
        for _ in 0..<count { groups.append(try reader.string()) }
        let sessionID = flags & hasSessionID != 0 ? try reader.string() : nil
        var acr: String?
        var authTime: Date?
        if flags & hasAuthContext != 0 {
            let context = try reader.byte()
            if context & hasACR != 0 { acr = try reader.string() }
            if context & hasAuthTime != 0 { authTime = Date(timeIntervalSince1970: Double(try reader.int64()) / 1000) }
        }
        var claims: [String: [String]] = [:]
        if flags & hasClaims != 0 {
            for _ in 0..<(try reader.length()) {
                let path = try reader.string()
                var values: [String] = []
                for _ in 0..<(try reader.length()) { values.append(try reader.string()) }
                claims[path] = values
            }
        }
        return Identity(
            issuer: issuer, subject: subject, email: email,
            emailVerified: flags & hasEmailVerified != 0 ? flags & emailVerified != 0 : nil, name: name,
            preferredUsername: preferredUsername, groups: groups, sessionID: sessionID, acr: acr, authTime: authTime,
            claims: claims)
    }
}
