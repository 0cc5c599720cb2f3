import Foundation

extension OAuthClient {
    /// Whether this client pushes its authorization requests to `metadata`'s provider
    /// (``Configuration/pushedAuthorization``).
    ///
    /// - Throws: ``OAuthError/Code/invalidConfiguration`` for `always` without a PAR endpoint,
    ///   or `never` with a provider that requires PAR.
    func usesPushedAuthorization(_ metadata: ProviderMetadata) throws(OAuthError) -> Bool {
        let required = metadata.requirePushedAuthorizationRequests == true
        switch configuration.pushedAuthorization {
        case .never:
            guard !required else {
                throw OAuthError(
                    .invalidConfiguration, "the provider requires pushed authorization requests (RFC 9126); PAR is off")
            }
            return false
        case .always:
            guard metadata.pushedAuthorizationRequestEndpoint != nil else {
                throw OAuthError(
                    .invalidConfiguration, "PAR is required by the configuration but the provider has no pushed_authorization_request_endpoint")
            }
            return true
        case .auto:
            guard required else { return false }
            guard metadata.pushedAuthorizationRequestEndpoint != nil else {
                throw OAuthError(
                    .invalidConfiguration, "the provider requires pushed authorization requests but names no endpoint for them")
            }
            return true
        }
    }

    /// Pushes an authorization request (RFC 9126 §2.1) with this client's authentication and
    /// returns its `request_uri`. A refusal becomes the provider's ``OAuthError`` (its `error`
    /// and description), any other answer an error of its own.
    func pushAuthorizationRequest(
        _ parameters: [(String, String?)], metadata: ProviderMetadata
    ) async throws(OAuthError) -> String {
        guard let endpoint = metadata.pushedAuthorizationRequestEndpoint else {
            throw OAuthError(.invalidConfiguration, "the provider has no pushed_authorization_request_endpoint")
        }
        // The authentication adds `client_id` where its method sends one in the body.
        var form = parameters.filter { $0.0 != "client_id" }
        var headers: [(String, String)] = [("Content-Type", "application/x-www-form-urlencoded")]
        try await configuration.authentication.apply(
            clientID: configuration.clientID, metadata: metadata, now: clock.now, form: &form, headers: &headers)
        if !form.contains(where: { $0.0 == "client_id" }) { form.append(("client_id", configuration.clientID)) }
        let response = try await transport.send(
            .POST, endpoint, headers: headers, body: Array(FormEncoding.encode(form).utf8),
            endpoint: "pushed authorization request endpoint")
        let fields = try TokenResponse.successFields(response, endpoint: "pushed authorization request endpoint")
        guard let requestURI = fields?["request_uri"]?.stringValue, !requestURI.isEmpty, requestURI.utf8.count <= 2048
        else {
            throw OAuthError(
                .malformedResponse, "the pushed authorization request endpoint's answer has no request_uri",
                httpStatus: response.status)
        }
        return requestURI
    }
}
