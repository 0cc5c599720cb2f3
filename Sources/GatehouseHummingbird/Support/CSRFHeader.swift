public import Hummingbird

/// The custom-header requirement of a front end's API calls (`X-CSRF: 1`, as Duende BFF):
/// another site's page cannot add a custom header to a request without a CORS preflight the
/// gateway never grants, so the header proves the request came from a same-origin script.
public enum CSRFHeader {
    /// The header's name when none is configured.
    public static let defaultName = "X-CSRF"

    /// Whether `fields` carry `name` with the value `1` (once).
    public static func isPresent(_ name: String, in fields: HTTPFields) -> Bool {
        guard let field = HTTPFields.Element.Name(name) else { return false }
        let values = fields[values: field]
        return values.count == 1 && values[0] == "1"
    }

    /// `403` JSON `missing_csrf_header`, naming the header to send.
    public static func refusal(_ name: String) -> Response {
        JSONResponse.oauthError(
            "missing_csrf_header", description: "send the header \(name): 1 with this request (a same-origin fetch)",
            status: .forbidden)
    }
}
