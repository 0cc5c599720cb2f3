import Foundation
import Hummingbird

/// Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1):
/// `client_secret_basic` (HTTP Basic with form-encoded id and secret), `client_secret_post`
/// (`client_id` and `client_secret` in the body), or `none` for a public client (`client_id`
/// only), or `private_key_jwt` (``ClientAssertion``). Using two methods at once is an error
/// (§2.3).
enum ClientAuthenticator {
    /// Why authentication failed: `invalid_request` (400) or `invalid_client` (401).
    struct Failure: Error {
        var error: String
        var description: String

        var response: Response {
            if error == "invalid_client" {
                var headers = HTTPFields()
                headers[.wwwAuthenticate] = "Basic realm=\"gatehouse-dev-idp\""
                return Responses.oauthError(error, description, status: .unauthorized, extra: headers)
            }
            return Responses.oauthError(error, description)
        }
    }

    /// A client-authenticated form POST (the token, PAR and revocation endpoints): its form
    /// (no parameter repeated) and its client, or the answer refusing it.
    static func authenticatedForm(_ request: Request, idp: IdentityProvider) async throws -> AuthenticatedForm {
        guard let form = try await request.formBody() else {
            return .refused(Responses.oauthError("invalid_request", "the body must be application/x-www-form-urlencoded"))
        }
        if let name = form.repeated.sorted().first {
            return .refused(Responses.oauthError("invalid_request", "the parameter \(name) appears more than once"))
        }
        do throws(Failure) {
            return .accepted(form, try await authenticate(request, form: form, idp: idp))
        } catch {
            return .refused(error.response)
        }
    }

    /// What ``authenticatedForm(_:idp:)`` found.
    enum AuthenticatedForm {
        case accepted(FormData, RegisteredClient)
        case refused(Response)
    }

    /// The authenticated client, by whichever method the request uses.
    static func authenticate(_ request: Request, form: FormData, idp: IdentityProvider) async throws(Failure)
        -> RegisteredClient
    {
        if form["client_assertion_type"] != nil || form["client_assertion"] != nil {
            return try await ClientAssertion.authenticate(request, form: form, idp: idp)
        }
        return try authenticate(request, form: form, lookup: idp.client)
    }

    /// The client authenticated by its secret, or a public client by its id.
    static func authenticate(
        _ request: Request, form: FormData, lookup: (String) -> RegisteredClient?
    ) throws(Failure) -> RegisteredClient {
        var basic: (id: String, secret: String)?
        if let header = request.headers[.authorization] {
            guard header.lowercased().hasPrefix("basic "),
                let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":"),
                let id = String(text[..<colon]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                let secret = String(text[text.index(after: colon)...]).replacingOccurrences(of: "+", with: " ")
                    .removingPercentEncoding
            else {
                throw Failure(error: "invalid_client", description: "the Authorization header is not valid HTTP Basic")
            }
            basic = (id, secret)
        }
        if basic != nil, form["client_secret"] != nil {
            throw Failure(error: "invalid_request", description: "use one client authentication method, not two")
        }
        if let basic, let bodyID = form["client_id"], bodyID != basic.id {
            throw Failure(error: "invalid_request", description: "client_id in the body differs from the Basic credentials")
        }
        guard let id = basic?.id ?? form["client_id"], let client = lookup(id) else {
            throw Failure(error: "invalid_client", description: "unknown client or no client authentication")
        }
        guard client.assertionKeyPEM == nil else {
            throw Failure(error: "invalid_client", description: "this client authenticates with private_key_jwt")
        }
        let presented = basic?.secret ?? form["client_secret"]
        switch (client.secret, presented) {
        case (nil, nil):
            return client
        case (let expected?, let given?) where Hash.constantTimeEqual(expected, given):
            return client
        case (nil, _?):
            throw Failure(error: "invalid_client", description: "this public client has no secret")
        default:
            throw Failure(error: "invalid_client", description: "client authentication failed")
        }
    }
}
