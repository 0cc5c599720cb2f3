import Synchronization

/// One ``JWKSCache`` per `jwks_uri`, so a discovery refresh that moves the keys gets a new cache.
final class KeyCacheRegistry: Sendable {
    private let caches = Mutex<[String: JWKSCache]>([:])

    func cache(for url: String, make: () -> JWKSCache) -> JWKSCache {
        caches.withLock { caches in
            if let cache = caches[url] { return cache }
            let cache = make()
            caches[url] = cache
            return cache
        }
    }
}
