import Foundation
package import Hummingbird

/// JSON answers of the `/oauth2/*` endpoints and the login challenge.
package enum JSONResponse {
    /// `value` as JSON with `Cache-Control: no-store`.
    static func make(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The 401 answer for a request without a session that is not a navigation.
    struct Unauthenticated: Encodable {
        var error = "unauthenticated"
        var message = "Sign in first."
        var loginURL: String

        enum CodingKeys: String, CodingKey {
            case error, message
            case loginURL = "login_url"
        }
    }

    /// An OAuth-style error body (RFC 6749 §5.2's `error` and `error_description`).
    struct OAuthErrorBody: Encodable {
        var error: String
        var errorDescription: String

        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
        }
    }

    /// `{"error": …, "error_description": …}` with `status`.
    package static func oauthError(_ error: String, description: String, status: HTTPResponse.Status) -> Response {
        make(OAuthErrorBody(error: error, errorDescription: description), status: status)
    }

    /// The 401 answer with the login URL for `returnPath` (with `provider`, when given).
    static func unauthenticated(returnPath: String, provider: String? = nil) -> Response {
        make(Unauthenticated(loginURL: LoginChallenge.startPath(returnPath: returnPath, provider: provider)), status: .unauthorized)
    }

    /// A 401 asking a signed-in user to sign in again: `provider_not_allowed` (a session from
    /// a provider the route does not admit) or `insufficient_user_authentication` (RFC 9470:
    /// a step-up), with the login URL for `returnPath` at `provider`.
    package static func signInAgain(
        _ error: String, message: String, returnPath: String, provider: String?
    ) -> Response {
        make(
            Unauthenticated(
                error: error, message: message, loginURL: LoginChallenge.startPath(returnPath: returnPath, provider: provider)),
            status: .unauthorized)
    }
}
