import Foundation

extension IdPState {
    // MARK: Codes

    /// Issues a single-use authorization code and records the client in the session.
    func issueCode(for request: AuthorizationRequest, session: LoginSession, lifetime: Duration, now: Date) -> String {
        let code = Random.token()
        codes[Hash.sha256(code)] = CodeGrant(
            request: request, sessionID: session.sessionID, subject: session.subject, authTime: session.authTime,
            expiresAt: now + lifetime.timeInterval, acr: session.acr)
        if let key = sessionKeys[session.sessionID] { sessions[key]?.clientIDs.insert(request.clientID) }
        return code
    }

    /// Consumes a code for `clientID` (RFC 6749 §4.1.2: single use). A second use revokes the
    /// tokens the first one produced. The code is consumed even when a later check fails, so
    /// a PKCE verifier cannot be guessed by retrying.
    func redeemCode(_ code: String, clientID: String, now: Date) throws(GrantFailure) -> CodeGrant {
        let hash = Hash.sha256(code)
        if let redeemed = redeemedCodes[hash] {
            revokeFamily(redeemed.familyID)
            throw .invalidGrant("the authorization code has already been used; its tokens are revoked")
        }
        guard let grant = codes.removeValue(forKey: hash) else {
            throw .invalidGrant("the authorization code is unknown")
        }
        redeemedCodes[hash] = ("", grant.expiresAt)
        guard grant.expiresAt > now else { throw .invalidGrant("the authorization code has expired") }
        guard grant.request.clientID == clientID else {
            throw .invalidGrant("the authorization code was issued to another client")
        }
        return grant
    }

    /// Starts the token family of a redeemed code.
    func startFamily(
        code: String, grant: CodeGrant, lifetime: Duration, now: Date, dpopKeyThumbprint: String? = nil
    ) -> TokenFamily {
        var family = TokenFamily(
            id: Random.token(), clientID: grant.request.clientID, subject: grant.subject, sessionID: grant.sessionID,
            scopes: grant.request.scopes, authTime: grant.authTime, expiresAt: now + lifetime.timeInterval,
            acr: grant.acr)
        family.dpopKeyThumbprint = dpopKeyThumbprint
        families[family.id] = family
        redeemedCodes[Hash.sha256(code)]?.familyID = family.id
        return family
    }

    // MARK: Tokens

    /// Records a new access token and refresh token of `familyID`; the family lives as long
    /// as its newest refresh token.
    func recordTokens(
        familyID: String, accessToken: String, accessExpiresAt: Date, refreshToken: String, refreshExpiresAt: Date
    ) {
        let accessHash = Hash.sha256(accessToken)
        let refreshHash = Hash.sha256(refreshToken)
        accessTokens[accessHash] = AccessRecord(familyID: familyID, expiresAt: accessExpiresAt)
        refreshTokens[refreshHash] = RefreshRecord(familyID: familyID, expiresAt: refreshExpiresAt)
        families[familyID]?.accessTokenHashes.insert(accessHash)
        families[familyID]?.refreshTokenHashes.insert(refreshHash)
        families[familyID]?.expiresAt = refreshExpiresAt
    }

    /// Exchanges a refresh token (RFC 6749 §6) once: a token used a second time means it
    /// leaked, so the whole family is revoked (RFC 9700 §4.14.2).
    func useRefreshToken(
        _ token: String, clientID: String, dpopKeyThumbprint: String? = nil, now: Date
    ) throws(GrantFailure) -> TokenFamily {
        let hash = Hash.sha256(token)
        guard let record = refreshTokens[hash], let family = families[record.familyID] else {
            throw .invalidGrant("the refresh token is unknown")
        }
        guard family.clientID == clientID else { throw .invalidGrant("the refresh token was issued to another client") }
        // RFC 9449 §5: a bound family's refresh token needs a proof of the same key; checked
        // before anything is spent, so a thief without the key cannot use the token up.
        if let bound = family.dpopKeyThumbprint, bound != dpopKeyThumbprint {
            throw .invalidGrant("the refresh token is bound to another DPoP key")
        }
        if record.used {
            revokeFamily(family.id)
            throw .invalidGrant("the refresh token was already used; every token of this grant is revoked")
        }
        guard !family.revoked else { throw .invalidGrant("the refresh token has been revoked") }
        guard record.expiresAt > now else { throw .invalidGrant("the refresh token has expired") }
        refreshTokens[hash]?.used = true
        return family
    }

    /// The family of a live access token.
    func accessToken(_ token: String, now: Date) -> TokenFamily? {
        guard let record = accessTokens[Hash.sha256(token)], !record.revoked, record.expiresAt > now,
            let family = families[record.familyID], !family.revoked
        else { return nil }
        return family
    }

    /// RFC 7009 §2.1: revokes `token` if `clientID` owns it. A refresh token takes its whole
    /// grant with it; an access token only itself. Unknown tokens are ignored.
    func revoke(_ token: String, clientID: String) {
        let hash = Hash.sha256(token)
        if let record = refreshTokens[hash], families[record.familyID]?.clientID == clientID {
            revokeFamily(record.familyID)
        } else if let record = accessTokens[hash], families[record.familyID]?.clientID == clientID {
            accessTokens[hash]?.revoked = true
        }
    }

    /// Revokes every token of a family.
    func revokeFamily(_ id: String) {
        guard let family = families[id] else { return }
        families[id]?.revoked = true
        for hash in family.accessTokenHashes { accessTokens[hash]?.revoked = true }
    }
}
