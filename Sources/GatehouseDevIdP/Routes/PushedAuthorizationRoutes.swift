import Foundation
import Hummingbird

/// RFC 9126 Pushed Authorization Requests: `POST /par` authenticates the client as the token
/// endpoint does, validates the authorization request as `/authorize` would, and answers
/// `201` with a one-time `request_uri` valid for a minute; `/authorize?client_id=…&request_uri=…`
/// then uses it (``AuthorizeRoutes``).
struct PushedAuthorizationRoutes: Sendable {
    static let lifetime: Duration = .seconds(60)
    let idp: IdentityProvider

    func register(on router: Router<IdPRequestContext>) {
        router.post("/par") { request, _ in try await push(request) }
    }

    func push(_ request: Request) async throws -> Response {
        let (form, client): (FormData, RegisteredClient)
        switch try await ClientAuthenticator.authenticatedForm(request, idp: idp) {
        case .accepted(let accepted, let authenticated): (form, client) = (accepted, authenticated)
        case .refused(let refusal): return refusal
        }
        // §2.1: the request's client_id, when repeated in the body, must be the authenticated one.
        if let stated = form["client_id"], stated != client.id {
            return Responses.oauthError("invalid_request", "client_id is not the authenticated client")
        }
        // §2.1: a pushed request cannot itself point at another.
        if form["request_uri"] != nil {
            return Responses.oauthError("invalid_request", "request_uri cannot be pushed")
        }
        var values = form.values
        values["client_id"] = client.id
        var parameters = FormData(values)
        if let jwt = form["request"] {
            switch await RequestObject.open(jwt, clientID: client.id, idp: idp) {
            case .success(let opened): parameters = opened
            case .failure(let refusal): return Responses.oauthError("invalid_request_object", refusal.message)
            }
        }
        switch AuthorizationValidation.validate(parameters, client: { $0 == client.id ? client : nil }) {
        case .failure(.page(let message)):
            return Responses.oauthError("invalid_request", message)
        case .failure(.redirect(_, _, let error, let description)):
            return Responses.oauthError(error, description)
        case .success(let authorization):
            let uri = await idp.state.push(authorization, lifetime: Self.lifetime, now: idp.now)
            idp.logger.info("authorization request pushed", metadata: ["client": "\(client.id)"])
            return Responses.json(
                encoding: ["request_uri": .string(uri), "expires_in": .number(Double(Self.lifetime.components.seconds))]
                    as [String: PushedValue],
                status: .created)
        }
    }

    /// A value of the pushed authorization response.
    enum PushedValue: Encodable {
        case string(String)
        case number(Double)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let text): try container.encode(text)
            case .number(let number): try container.encode(Int(number))
            }
        }
    }
}
