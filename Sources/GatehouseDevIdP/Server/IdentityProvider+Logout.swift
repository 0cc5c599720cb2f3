import Foundation

extension IdentityProvider {
    /// Ends the IdP session `sessionID`: revokes its token families and POSTs a logout token
    /// to every client that received tokens in it and registered a `backchannel_logout_uri`
    /// (Back-Channel Logout §2.5). Returns `false` when there was no such session.
    @discardableResult
    public func endSession(id sessionID: String) async -> Bool {
        await endedSession(id: sessionID) != nil
    }

    /// ``endSession(id:)``, returning the session that ended (its clients' front-channel
    /// logout pages are framed by the logout page).
    func endedSession(id sessionID: String) async -> LoginSession? {
        guard let session = await state.endSession(id: sessionID) else { return nil }
        logger.info("IdP session ended", metadata: ["sub": "\(session.subject)"])
        await withTaskGroup(of: Void.self) { group in
            for clientID in session.clientIDs.sorted() {
                guard let client = client(clientID), let uri = client.backchannelLogoutURI else { continue }
                group.addTask { await self.sendLogoutToken(to: client, uri: uri, session: session) }
            }
        }
        return session
    }

    /// Each front-channel logout URL (Front-Channel Logout §2–§3) of the clients that received
    /// tokens in `session`, with `iss` and `sid`.
    func frontchannelLogoutURLs(for session: LoginSession) -> [String] {
        session.clientIDs.sorted().compactMap { client($0)?.frontchannelLogoutURI }.map { uri in
            FormData.url(uri, adding: [("iss", issuer), ("sid", session.sessionID)])
        }
    }

    /// The logout token (Back-Channel Logout §2.4): `iss`, `aud`, `iat`, `exp`, `jti`, `sub`,
    /// `sid` and the `events` claim; never a `nonce`. Typed `logout+jwt` (§2.4, so it cannot
    /// be mistaken for an ID token).
    func logoutToken(for client: RegisteredClient, session: LoginSession) async throws -> String {
        var claims = TokenClaims(
            issuer: issuer, subject: session.subject, audience: client.id,
            issuedAt: Int(now.timeIntervalSince1970), lifetime: .seconds(120))
        claims.tokenID = Random.token()
        claims.sessionID = session.sessionID
        claims.events = TokenClaims.Events()
        return try await keys.sign(claims, algorithm: client.idTokenAlgorithm, type: "logout+jwt")
    }

    private func sendLogoutToken(to client: RegisteredClient, uri: String, session: LoginSession) async {
        guard let post = backchannel.post else {
            logger.notice("back-channel logout not sent (no HTTP client configured)", metadata: ["client": "\(client.id)"])
            return
        }
        do {
            let token = try await logoutToken(for: client, session: session)
            let status = try await post(uri, FormData.encode([("logout_token", token)]))
            // §2.8: 200 (or 204) means the RP logged the session out.
            if status == 200 || status == 204 {
                logger.info("back-channel logout delivered", metadata: ["client": "\(client.id)"])
            } else {
                logger.warning("back-channel logout refused", metadata: ["client": "\(client.id)", "status": "\(status)"])
            }
        } catch {
            logger.warning("back-channel logout failed", metadata: ["client": "\(client.id)", "error": "\(type(of: error))"])
        }
    }
}
