extension SessionStore {
    /// Drops cached sessions as soon as any process sharing the store deletes them (other
    /// gateway instances, `gatehouse sessions revoke`; PostgreSQL LISTEN/NOTIFY), until the
    /// task is cancelled. Each time observation (re)starts the whole cache is dropped, since
    /// deletions in between were not seen. Returns at once for drivers that cannot observe
    /// deletions; the cache lifetime (``Configuration/cacheTTL``) bounds staleness then, and
    /// while a lost connection is re-established every `retryAfter`.
    public func runDeletionListener(retryAfter: Duration = .seconds(1)) async {
        let cache = self.cache
        while !Task.isCancelled {
            do {
                let supported = try await driver.observeDeletions(onListening: { cache.removeAll() }) { deletion in
                    switch deletion {
                    case .session(let hash): cache.invalidate(hash)
                    case .many: cache.removeAll()
                    }
                }
                if !supported { return }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "watching session deletions failed; retrying", metadata: ["error": "\(Self.logCode(error))"])
            }
            try? await Task.sleep(for: retryAfter)
        }
    }
}
