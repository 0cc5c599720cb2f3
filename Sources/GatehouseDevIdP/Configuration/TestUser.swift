import Foundation

/// A person who can sign in at the development IdP. Passwords are plain text: these are test
/// accounts, and the IdP says so on every page.
public struct TestUser: Sendable, Hashable, Codable {
    public var username: String
    public var password: String
    /// `sub`. Default: the username.
    public var subject: String
    public var email: String?
    /// `email_verified`. Default `true`.
    public var emailVerified: Bool
    public var name: String?
    public var groups: [String]

    public init(
        username: String, password: String, subject: String? = nil, email: String? = nil,
        emailVerified: Bool = true, name: String? = nil, groups: [String] = []
    ) {
        self.username = username
        self.password = password
        self.subject = subject ?? username
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.groups = groups
    }

    /// `alice` (password `alice`, groups `staff` and `admins`) and `bob` (password `bob`, no
    /// groups).
    public static let defaults: [TestUser] = [
        TestUser(
            username: "alice", password: "alice", email: "alice@example.com", name: "Alice Example",
            groups: ["staff", "admins"]),
        TestUser(username: "bob", password: "bob", email: "bob@example.org", name: "Bob Example"),
    ]

    /// Other people, for a second development IdP (the demo's partner provider): `carol`
    /// (password `carol`, group `partners`) and `erin` (password `erin`).
    public static let partners: [TestUser] = [
        TestUser(
            username: "carol", password: "carol", email: "carol@partner.example", name: "Carol Partner",
            groups: ["partners"]),
        TestUser(username: "erin", password: "erin", email: "erin@partner.example", name: "Erin Partner"),
    ]

    enum CodingKeys: String, CodingKey {
        case username, password, subject = "sub", email, emailVerified = "email_verified", name, groups
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let username = try container.decode(String.self, forKey: .username)
        self.init(
            username: username,
            password: try container.decode(String.self, forKey: .password),
            subject: try container.decodeIfPresent(String.self, forKey: .subject),
            email: try container.decodeIfPresent(String.self, forKey: .email),
            emailVerified: try container.decodeIfPresent(Bool.self, forKey: .emailVerified) ?? true,
            name: try container.decodeIfPresent(String.self, forKey: .name),
            groups: try container.decodeIfPresent([String].self, forKey: .groups) ?? [])
    }

    /// Reads a JSON array of users:
    /// `[{"username": "carol", "password": "carol", "email": "carol@example.net",
    ///    "name": "Carol", "groups": ["staff"], "sub": "optional", "email_verified": true}]`.
    public static func load(jsonFile path: String) throws -> [TestUser] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DevIdPError("cannot read \(path)")
        }
        let users: [TestUser]
        do {
            users = try JSONDecoder().decode([TestUser].self, from: data)
        } catch {
            throw DevIdPError("\(path) is not a JSON array of users (username, password, email, name, groups)")
        }
        try validate(users)
        return users
    }

    /// Parses `username:password[:email[:name[:group,group]]]` (the `--user` flag).
    public init(flag: String) throws {
        let parts = flag.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw DevIdPError("--user \(flag): expected username:password[:email[:name[:group,group]]]")
        }
        func part(_ index: Int) -> String? { parts.count > index && !parts[index].isEmpty ? parts[index] : nil }
        self.init(
            username: parts[0], password: parts[1], email: part(2), name: part(3),
            groups: part(4).map { $0.split(separator: ",").map(String.init) } ?? [])
    }

    /// Usernames and subjects must be unique and non-empty.
    static func validate(_ users: [TestUser]) throws {
        guard !users.isEmpty else { throw DevIdPError("at least one test user is needed") }
        for user in users where user.username.isEmpty || user.subject.isEmpty || user.password.isEmpty {
            throw DevIdPError("a test user has an empty username, sub or password")
        }
        guard Set(users.map(\.username)).count == users.count, Set(users.map(\.subject)).count == users.count else {
            throw DevIdPError("test usernames and subjects must be unique")
        }
    }
}
