import Foundation
import GatehouseOAuth
import GatehouseStore
import Logging

extension AuthService {
    /// `session` with a fresh access token when the current one expires within
    /// ``AuthSettings/refreshLeeway`` (single-flight per session in ``TokenRefresher``).
    ///
    /// A refresh the IdP refuses (`invalid_grant`) ends the session: `nil`, as signed out. Any
    /// other failure keeps the old tokens (DESIGN §4: a failure never loses a stored session):
    /// the request goes on with them while the access token is still valid or not needed
    /// (``AuthSettings/accessTokenRequired``), and is answered ``SessionUnavailable`` otherwise.
    ///
    /// A session from a provider that is no longer configured is treated as signed out.
    func refreshedIfDue(_ session: Session) async throws(SessionUnavailable) -> Session? {
        guard let refresher = refresher(for: session) else {
            logger.notice(
                "session of a provider no longer configured ignored",
                metadata: ["session": "\(session.idHash.shortDescription)", "provider": "\(session.provider)"])
            return nil
        }
        guard refresher.needsRefresh(session) else { return session }
        do {
            return try await refresher.freshSession(session)
        } catch RefreshError.sessionEnded {
            logger.info("session ended by a refused refresh", metadata: ["session": "\(session.idHash.shortDescription)"])
            return nil
        } catch {
            let expired = session.tokens.expires(within: .zero, now: store.clock.now)
            let metadata: Logger.Metadata = [
                "session": "\(session.idHash.shortDescription)", "error": "\(Self.errorCode(error))",
                "access_token": "\(expired ? "expired" : "still valid")",
            ]
            guard expired, settings.accessTokenRequired else {
                logger.warning("token refresh failed; continuing with the current tokens", metadata: metadata)
                return session
            }
            logger.warning("token refresh failed; request answered 503, session kept", metadata: metadata)
            throw SessionUnavailable(.refreshFailed)
        }
    }
}
