import Foundation

extension OAuthClient {
    /// GitHub's identity: `GET /user` for the numeric id (the stable subject; logins can be
    /// renamed), `GET /user/emails` for the verified primary address.
    func gitHubIdentity(accessToken: String, apiBaseURL: String, issuer: String) async throws(OAuthError) -> Identity {
        let headers = [
            ("Authorization", "Bearer " + accessToken),
            ("Accept", "application/vnd.github+json"),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ]
        let userResponse = try await transport.send(.GET, apiBaseURL + "/user", headers: headers, endpoint: "GitHub user API")
        guard userResponse.status == 200, let user = TokenResponse.decodeFields(userResponse) else {
            throw OAuthError(
                .unexpectedStatus, "the GitHub user API answered HTTP \(userResponse.status)",
                httpStatus: userResponse.status, bodyExcerpt: userResponse.excerpt)
        }
        guard let id = user["id"]?.numberValue, id >= 1, id < 9e15 else {
            throw OAuthError(.malformedResponse, "the GitHub user has no numeric id")
        }
        let emailsResponse = try await transport.send(
            .GET, apiBaseURL + "/user/emails", headers: headers, endpoint: "GitHub emails API")
        var email: String?
        if emailsResponse.status == 200,
            let emails = try? JSONDecoder().decode([GitHubEmail].self, from: Data(emailsResponse.body))
        {
            email = emails.first { $0.primary && $0.verified }?.email
        }
        return Identity(
            issuer: issuer,
            subject: String(Int64(id)),
            email: email,
            emailVerified: email == nil ? nil : true,
            name: user["name"]?.stringValue,
            preferredUsername: user["login"]?.stringValue)
    }
}

private struct GitHubEmail: Decodable {
    var email: String
    var primary: Bool
    var verified: Bool
}
