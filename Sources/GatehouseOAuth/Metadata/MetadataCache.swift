import Foundation
import Logging
import Synchronization

/// Provider metadata: discovered once and refreshed every `refreshInterval` (a failed refresh
/// keeps the document already held), or fixed when given by hand.
final class MetadataCache: Sendable {
    private struct State {
        var metadata: ProviderMetadata?
        var fetchedAt: Date?
        var inflight: Task<ProviderMetadata, any Error>?
    }

    private let state: Mutex<State>
    private let discoveryURL: String?
    private let policy: IssuerPolicy
    private let transport: IdPTransport
    private let refreshInterval: Duration
    private let clock: WallClock
    private let logger: Logger

    init(
        source: Provider.MetadataSource,
        policy: IssuerPolicy,
        transport: IdPTransport,
        refreshInterval: Duration,
        clock: WallClock,
        logger: Logger
    ) {
        switch source {
        case .discovery(let url):
            self.discoveryURL = url
            self.state = Mutex(State())
        case .fixed(let metadata):
            self.discoveryURL = nil
            self.state = Mutex(State(metadata: metadata, fetchedAt: .distantFuture))
        }
        self.policy = policy
        self.transport = transport
        self.refreshInterval = refreshInterval
        self.clock = clock
        self.logger = logger
    }

    func current() async throws(OAuthError) -> ProviderMetadata {
        let now = clock.now
        let cached = state.withLock { state -> (ProviderMetadata?, Bool) in
            guard let metadata = state.metadata, let fetchedAt = state.fetchedAt else { return (nil, true) }
            return (metadata, now.timeIntervalSince(fetchedAt) >= TimeInterval(refreshInterval.components.seconds))
        }
        switch cached {
        case (let metadata?, false):
            return metadata
        case (let metadata?, true):
            do {
                return try await fetch()
            } catch {
                logger.warning("discovery refresh failed; keeping the metadata already held", metadata: ["error": "\(error.code)"])
                return metadata
            }
        case (nil, _):
            return try await fetch()
        }
    }

    private func fetch() async throws(OAuthError) -> ProviderMetadata {
        guard let discoveryURL else {
            throw OAuthError(.invalidConfiguration, "the provider has no discovery URL")
        }
        let task = state.withLock { state -> Task<ProviderMetadata, any Error> in
            if let inflight = state.inflight { return inflight }
            let task = Task { [transport, policy] in
                let response = try await transport.send(.GET, discoveryURL, endpoint: "discovery endpoint")
                guard response.status == 200 else {
                    throw OAuthError(
                        .unexpectedStatus, "the discovery endpoint answered HTTP \(response.status)",
                        httpStatus: response.status, bodyExcerpt: response.excerpt)
                }
                return try Discovery.decode(response.body, policy: policy)
            }
            state.inflight = task
            return task
        }
        let result = await task.result
        let now = clock.now
        state.withLock { state in
            if case .success(let metadata) = result {
                state.metadata = metadata
                state.fetchedAt = now
            }
            state.inflight = nil
        }
        switch result {
        case .success(let metadata): return metadata
        case .failure(let error as OAuthError): throw error
        case .failure(let error): throw OAuthError(.transport, "discovery failed: \(OAuthError.sanitize("\(error)", limit: 120))")
        }
    }
}
