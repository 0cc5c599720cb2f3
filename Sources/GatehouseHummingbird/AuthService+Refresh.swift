import Foundation
import GatehouseOAuth
import GatehouseStore
import Logging

extension AuthService {
    /// `session` with a fresh access token when the current one expires within
    /// ``AuthSettings/refreshLeeway`` (single-flight per session in ``TokenRefresher``).
    ///
    /// A refresh the IdP refuses (`invalid_grant`) ends the session: `nil`, as signed out. Any
    /// other failure keeps the old tokens (DESIGN §4: a failure never loses a stored session).
    func refreshedIfDue(_ session: Session) async -> Session? {
        guard refresher.needsRefresh(session) else { return session }
        do {
            return try await refresher.freshSession(session)
        } catch RefreshError.sessionEnded {
            logger.info("session ended by a refused refresh", metadata: ["session": "\(session.idHash.shortDescription)"])
            return nil
        } catch {
            logger.warning(
                "token refresh failed; continuing with the current tokens",
                metadata: ["session": "\(session.idHash.shortDescription)", "error": "\(Self.errorCode(error))"])
            return session
        }
    }
}
