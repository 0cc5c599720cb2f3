/// Hands out a valid access token, refreshing it shortly before it expires — the analogue of
/// golang.org/x/oauth2's `ReuseTokenSource`, with the hook it lacks (golang/oauth2#84): every
/// refreshed token set, including a rotated refresh token, goes to `save` before it is used.
///
/// Safe for concurrent use: however many tasks ask at once, one refresh reaches the IdP and
/// the others await its result.
public actor TokenProvider {
    /// Where new tokens come from.
    public enum Source: Sendable {
        /// The refresh token in the current token set (the subject, when known, must not change).
        case refreshToken(subject: String?)
        /// The client credentials grant with these scopes (and RFC 8707 resource indicators).
        case clientCredentials(scopes: [String], resources: [String] = [])
    }

    private let client: OAuthClient
    private let source: Source
    private let leeway: Duration
    private let save: @Sendable (TokenSet) async throws -> Void
    private var tokens: TokenSet?
    private var inflight: Task<Refreshed, any Error>?

    /// - Parameters:
    ///   - tokens: the current tokens, if any (required for `.refreshToken`).
    ///   - leeway: how long before expiry a token is refreshed, at most half its lifetime
    ///     (``TokenSet/refreshDue(leeway:now:)``). Default: 30 seconds.
    ///   - save: called with each new token set before it is handed out; persist rotated
    ///     refresh tokens here. If it throws, the caller sees the error and the new tokens
    ///     stay in memory (the old refresh token may already be dead).
    public init(
        client: OAuthClient,
        source: Source,
        tokens: TokenSet? = nil,
        leeway: Duration = .seconds(30),
        save: @escaping @Sendable (TokenSet) async throws -> Void = { _ in }
    ) {
        self.client = client
        self.source = source
        self.tokens = tokens
        self.leeway = leeway
        self.save = save
    }

    /// A token set whose access token is not yet due for a refresh.
    public func token() async throws -> TokenSet {
        if let tokens, !tokens.refreshDue(leeway: leeway, now: client.clock.now) {
            return tokens
        }
        if let inflight {
            return try await Self.unwrap(inflight.value)
        }
        let task = Task { [client, source, tokens, save] () async throws -> Refreshed in
            let fresh: TokenSet
            switch source {
            case .refreshToken(let subject):
                guard let tokens else {
                    throw OAuthError(.invalidGrant, "the token provider has no tokens to refresh")
                }
                fresh = try await client.refresh(tokens, subject: subject)
            case .clientCredentials(let scopes, let resources):
                fresh = try await client.clientCredentials(scopes: scopes, resources: resources)
            }
            do {
                try await save(fresh)
                return Refreshed(tokens: fresh, saveError: nil)
            } catch {
                return Refreshed(tokens: fresh, saveError: error)
            }
        }
        inflight = task
        defer { inflight = nil }
        let refreshed = try await task.value
        // Keep the new tokens even when saving failed: the old refresh token may be spent.
        tokens = refreshed.tokens
        return try Self.unwrap(refreshed)
    }

    private struct Refreshed: Sendable {
        var tokens: TokenSet
        var saveError: (any Error)?
    }

    private static func unwrap(_ refreshed: Refreshed) throws -> TokenSet {
        if let saveError = refreshed.saveError { throw saveError }
        return refreshed.tokens
    }
}
