import Foundation

/// Turns a token endpoint answer into a ``TokenSet`` or an ``OAuthError`` — pure, so every
/// malformed answer can be tested from bytes.
enum TokenResponse {
    /// The `error` of a JSON error answer, or `nil`.
    static func errorCode(_ response: IdPResponse) -> String? {
        decodeFields(response)?["error"]?.stringValue
    }

    /// The fields of an answer that is neither an OAuth error (the provider's ``OAuthError``)
    /// nor another non-2xx status (``OAuthError/Code/unexpectedStatus``, naming `endpoint`);
    /// `nil` when a 2xx body has no fields.
    static func successFields(_ response: IdPResponse, endpoint: String) throws(OAuthError) -> [String: JSONValue]? {
        let fields = decodeFields(response)
        // Some providers (GitHub) answer errors with 200; RFC 6749 §5.2 says 400/401.
        if let fields, let error = fields["error"]?.stringValue {
            throw OAuthError.fromResponse(
                OAuthErrorResponse(
                    error: error,
                    errorDescription: fields["error_description"]?.stringValue,
                    errorURI: fields["error_uri"]?.stringValue),
                httpStatus: response.status)
        }
        guard (200..<300).contains(response.status) else {
            throw OAuthError(
                .unexpectedStatus, "the \(endpoint) answered HTTP \(response.status)",
                httpStatus: response.status, bodyExcerpt: response.excerpt)
        }
        return fields
    }

    static func process(_ response: IdPResponse, receivedAt: Date) throws(OAuthError) -> TokenSet {
        let fields = try successFields(response, endpoint: "token endpoint")
        // No excerpt for a 2xx body: it may hold tokens.
        guard let fields else {
            throw OAuthError(
                .malformedResponse,
                "the token endpoint's answer is not JSON (content type \(OAuthError.sanitize(response.mediaType ?? "none", limit: 64)))",
                httpStatus: response.status)
        }
        return try tokenSet(from: fields, receivedAt: receivedAt)
    }

    /// A successful response (RFC 6749 §5.1) as a token set.
    static func tokenSet(from fields: [String: JSONValue], receivedAt: Date) throws(OAuthError) -> TokenSet {
        guard let accessToken = fields["access_token"]?.stringValue, !accessToken.isEmpty else {
            throw OAuthError(.malformedResponse, "the token response has no access_token")
        }
        guard let tokenType = fields["token_type"]?.stringValue, !tokenType.isEmpty else {
            throw OAuthError(.malformedResponse, "the token response has no token_type")
        }
        var expiresAt: Date?
        if let expiresIn = fields["expires_in"], expiresIn != .null {
            // Some providers send the number as a string.
            let seconds = expiresIn.numberValue ?? expiresIn.stringValue.flatMap(Double.init)
            guard let seconds, seconds.isFinite, seconds >= 0, seconds < 100 * 365 * 86_400 else {
                throw OAuthError(.malformedResponse, "the token response's expires_in is not a sensible number")
            }
            expiresAt = receivedAt.addingTimeInterval(seconds.rounded(.down))
        }
        func optionalString(_ key: String) throws(OAuthError) -> String? {
            switch fields[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value.isEmpty ? nil : value
            default: throw OAuthError(.malformedResponse, "the token response's \(key) is not a string")
            }
        }
        let scope = try optionalString("scope").map { $0.split(separator: " ").map(String.init) }
        let refreshToken = try optionalString("refresh_token")
        let idToken = try optionalString("id_token")
        // The tokens live in their typed properties only: one copy of each secret to seal,
        // cache and eventually forget.
        var others = fields
        for name in ["access_token", "refresh_token", "id_token"] { others[name] = nil }
        return TokenSet(
            accessToken: accessToken,
            tokenType: tokenType,
            expiresAt: expiresAt,
            issuedAt: expiresAt == nil ? nil : receivedAt,
            refreshToken: refreshToken,
            idToken: idToken,
            scope: scope,
            raw: others)
    }

    /// The body as a flat object: JSON, or the form encoding some providers still send
    /// (GitHub without `Accept: application/json`). `nil` when it is neither.
    static func decodeFields(_ response: IdPResponse) -> [String: JSONValue]? {
        let mediaType = response.mediaType
        if mediaType == "application/x-www-form-urlencoded" || mediaType == "text/plain" {
            guard let text = String(validating: response.body, as: UTF8.self),
                let pairs = FormEncoding.decode(Substring(text)), !pairs.isEmpty
            else { return nil }
            var fields: [String: JSONValue] = [:]
            for (key, value) in pairs where fields[key] == nil {
                fields[key] = .string(value)
            }
            return fields
        }
        // JSON is the default; a body that is not a JSON object is nil, never a crash.
        guard mediaType == nil || mediaType == "application/json" || mediaType?.hasSuffix("+json") == true
        else { return nil }
        return try? JSONDecoder().decode([String: JSONValue].self, from: Data(response.body))
    }
}
