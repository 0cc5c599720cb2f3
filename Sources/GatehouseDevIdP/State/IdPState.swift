import Foundation

/// Everything the IdP remembers, in memory: sign-ins, login forms in progress, codes and
/// token families. One actor, so every check-and-consume is atomic.
actor IdPState {
    var interactions: [String: Interaction] = [:]
    var sessions: [String: LoginSession] = [:]
    /// `sid` → cookie hash.
    var sessionKeys: [String: String] = [:]
    var codes: [String: CodeGrant] = [:]
    /// Redeemed code hashes → the family they started, until the code would have expired.
    var redeemedCodes: [String: (familyID: String, until: Date)] = [:]
    var families: [String: TokenFamily] = [:]
    var refreshTokens: [String: RefreshRecord] = [:]
    var accessTokens: [String: AccessRecord] = [:]
    /// DPoP proofs seen (key thumbprint + `jti`) → until when they are remembered (RFC 9449 §11.1).
    var usedDPoPProofs: [String: Date] = [:]
    /// The DPoP nonce and the one before it (RFC 9449 §8), rotated every five minutes.
    var dpopNonce = Random.token()
    var previousDPoPNonce: String?
    var dpopNonceIssuedAt = Date.distantPast
    /// Pushed authorization requests (RFC 9126) by `request_uri`, each used at most once.
    var pushedRequests: [String: (request: AuthorizationRequest, expiresAt: Date)] = [:]
    /// `private_key_jwt` assertions seen (`client id` + `jti`) → their expiry (RFC 7523 §3: single use).
    var usedAssertions: [String: Date] = [:]
    private var lastPurge = Date.distantPast

    /// The nonce DPoP proofs must carry now (rotated every five minutes).
    func currentDPoPNonce(now: Date) -> String {
        if now.timeIntervalSince(dpopNonceIssuedAt) > 300 {
            if dpopNonceIssuedAt != .distantPast { previousDPoPNonce = dpopNonce }
            dpopNonce = Random.token()
            dpopNonceIssuedAt = now
        }
        return dpopNonce
    }

    /// Whether a proof's `nonce` is the current or the previous one.
    func acceptsDPoPNonce(_ nonce: String?, now: Date) -> Bool {
        let current = currentDPoPNonce(now: now)
        guard let nonce else { return false }
        return nonce == current || nonce == previousDPoPNonce
    }

    /// Records a DPoP proof; `false` when it was used before.
    func useDPoPProof(_ key: String, until: Date, now: Date) -> Bool {
        purgeIfDue(now)
        guard usedDPoPProofs[key] == nil else { return false }
        usedDPoPProofs[key] = until
        return true
    }

    /// Keeps a pushed authorization request; its `request_uri`.
    func push(_ request: AuthorizationRequest, lifetime: Duration, now: Date) -> String {
        purgeIfDue(now)
        let uri = "urn:ietf:params:oauth:request_uri:" + Random.token()
        pushedRequests[uri] = (request, now + lifetime.timeInterval)
        return uri
    }

    /// Takes a pushed request out (single use, RFC 9126 §4); `nil` when unknown, used or expired.
    func takePushed(_ uri: String, now: Date) -> AuthorizationRequest? {
        guard let pushed = pushedRequests.removeValue(forKey: uri), pushed.expiresAt > now else { return nil }
        return pushed.request
    }

    /// Records a client assertion's `jti`; `false` when it was used before.
    func useAssertion(clientID: String, jti: String, expiresAt: Date, now: Date) -> Bool {
        purgeIfDue(now)
        let key = clientID + " " + jti
        guard usedAssertions[key] == nil else { return false }
        usedAssertions[key] = expiresAt
        return true
    }

    // MARK: Login forms

    /// Stores a login form's request; returns its id and the browser-binding value.
    func startInteraction(_ request: AuthorizationRequest, lifetime: Duration, now: Date) -> (id: String, binding: String) {
        purgeIfDue(now)
        let id = Random.token()
        let binding = Random.token()
        interactions[id] = Interaction(
            request: request, bindingHash: Hash.sha256(binding), expiresAt: now + lifetime.timeInterval)
        return (id, binding)
    }

    /// The login form `id` if it exists, has not expired and `binding` is this browser's.
    func interaction(_ id: String, binding: String?, now: Date) -> Interaction? {
        guard let interaction = interactions[id], interaction.expiresAt > now, let binding,
            Hash.constantTimeEqual(interaction.bindingHash, Hash.sha256(binding))
        else { return nil }
        return interaction
    }

    /// Removes a finished login form (single use).
    func finishInteraction(_ id: String) {
        interactions[id] = nil
    }

    // MARK: Sign-ins

    /// Starts an IdP session for `subject`; returns the cookie value and the session.
    func signIn(
        subject: String, lifetime: Duration, now: Date, acr: String = AuthenticationLevel.password
    ) -> (cookie: String, session: LoginSession) {
        let cookie = Random.token()
        let session = LoginSession(
            sessionID: Random.token(), subject: subject, authTime: now, expiresAt: now + lifetime.timeInterval, acr: acr)
        sessions[Hash.sha256(cookie)] = session
        sessionKeys[session.sessionID] = Hash.sha256(cookie)
        return (cookie, session)
    }

    /// The live session of a session cookie.
    func session(cookie: String?, now: Date) -> LoginSession? {
        guard let cookie, let session = sessions[Hash.sha256(cookie)], session.expiresAt > now else { return nil }
        return session
    }

    /// The live session with this `sid`.
    func session(id: String, now: Date) -> LoginSession? {
        guard let key = sessionKeys[id], let session = sessions[key], session.expiresAt > now else { return nil }
        return session
    }

    /// Ends a session: forgets it and revokes every token family issued in it. Returns the
    /// session (for back-channel logout), or `nil` when there was none.
    func endSession(id: String) -> LoginSession? {
        guard let key = sessionKeys.removeValue(forKey: id), let session = sessions.removeValue(forKey: key) else {
            return nil
        }
        for family in families.values where family.sessionID == id { revokeFamily(family.id) }
        return session
    }

    // MARK: Housekeeping

    /// Drops expired entries at most once a minute (called on new logins).
    func purgeIfDue(_ now: Date) {
        guard now.timeIntervalSince(lastPurge) > 60 else { return }
        lastPurge = now
        interactions = interactions.filter { $0.value.expiresAt > now }
        codes = codes.filter { $0.value.expiresAt > now }
        redeemedCodes = redeemedCodes.filter { $0.value.until > now }
        usedAssertions = usedAssertions.filter { $0.value > now }
        pushedRequests = pushedRequests.filter { $0.value.expiresAt > now }
        usedDPoPProofs = usedDPoPProofs.filter { $0.value > now }
        for (key, session) in sessions where session.expiresAt <= now {
            sessions[key] = nil
            sessionKeys[session.sessionID] = nil
        }
        for family in families.values where family.expiresAt <= now {
            families[family.id] = nil
            for hash in family.accessTokenHashes { accessTokens[hash] = nil }
            for hash in family.refreshTokenHashes { refreshTokens[hash] = nil }
        }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
