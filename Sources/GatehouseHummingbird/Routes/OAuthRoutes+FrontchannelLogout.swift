import Foundation
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Logging

extension OAuthRoutes {
    /// `GET /oauth2/frontchannel-logout?iss=…&sid=…` (OpenID Connect Front-Channel Logout 1.0
    /// §2–§3; Microsoft Entra ID offers only this): the IdP's logout page frames this URL, and
    /// the sessions of that provider's IdP session `sid` end.
    ///
    /// Never by cookie: a `SameSite=Lax` cookie does not reach a cross-site frame, and a
    /// logout that followed one would let any page sign a user out. `iss` names the provider
    /// (it must be one's discovered issuer; with a single provider it may be left out). The
    /// answer is a small page only that provider's origin may frame (`frame-ancestors`),
    /// `400` when `sid` is missing or `iss` unknown.
    func frontchannelLogout(_ request: Request, context: Context) async -> Response {
        let query = request.uri.queryParameters
        guard query.getAll("sid").count <= 1, query.getAll("iss").count <= 1 else {
            return refuseFrontchannel("repeated_parameter", "iss and sid may appear once each")
        }
        guard let sid = query["sid"].map(String.init), !sid.isEmpty else {
            return refuseFrontchannel("missing_sid", "the request names no IdP session (sid)")
        }
        let issuer = query["iss"].map(String.init)
        guard let (provider, metadata) = await frontchannelProvider(issuer: issuer) else {
            return refuseFrontchannel("unknown_issuer", "no configured provider has this issuer")
        }
        let ended: Int
        do {
            ended = try await auth.store.deleteAll(idpSessionID: sid, provider: provider.id)
        } catch {
            auth.logger.error("front-channel logout: store unavailable", metadata: ["error": "\(AuthService.errorCode(error))"])
            AuthMetrics.frontchannelLogout("store_unavailable")
            return Page(
                status: .serviceUnavailable, title: "Sign-out unavailable",
                message: "Sessions cannot be ended right now.", category: "store_unavailable"
            ).response()
        }
        auth.logger.info("front-channel logout", metadata: ["provider": "\(provider.id)", "sessions_ended": "\(ended)"])
        AuthMetrics.frontchannelLogout("succeeded")
        var response = Page(status: .ok, title: "Signed out", message: "You are signed out of this application.").response()
        // Framed by the provider's logout page: its origin only, no other site.
        let ancestors = Set([metadata.issuer, metadata.endSessionEndpoint ?? metadata.issuer].compactMap(EndpointURL.origin(of:)))
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors "
            + (ancestors.isEmpty ? "'none'" : ancestors.sorted().joined(separator: " "))
        response.headers[.xFrameOptions] = nil
        return response
    }

    /// The provider whose discovered issuer is `issuer`, with its metadata; without `issuer`,
    /// the only provider (with several, `nil`).
    private func frontchannelProvider(issuer: String?) async -> (LoginProvider, ProviderMetadata)? {
        guard let issuer else {
            guard auth.providers.count == 1, let metadata = try? await auth.providers[0].client.metadata() else { return nil }
            return (auth.providers[0], metadata)
        }
        for provider in auth.providers {
            if let metadata = try? await provider.client.metadata(), metadata.issuer == issuer { return (provider, metadata) }
        }
        return nil
    }

    /// Logs the reason (never the `sid`) and answers `400`.
    private func refuseFrontchannel(_ reason: String, _ description: String) -> Response {
        auth.logger.notice("front-channel logout refused", metadata: ["reason": "\(reason)"])
        AuthMetrics.frontchannelLogout("refused")
        return Page(
            status: .badRequest, title: "Sign-out refused", message: "This sign-out request is not valid: \(description).",
            category: reason
        ).response()
    }
}
