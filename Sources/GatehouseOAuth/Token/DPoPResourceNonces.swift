import Foundation
public import NIOHTTP1
import Synchronization

/// The DPoP nonces resource servers hand out (RFC 9449 §9), one per origin (a server's nonces
/// are its own), learned from any response's `DPoP-Nonce` and sent with the next proof to that
/// origin. Shared by every request to those servers; safe for concurrent use.
public final class DPoPResourceNonces: Sendable {
    private let nonces = Mutex<[String: String]>([:])

    /// Longest nonce kept: a server's nonce is a short opaque string; anything longer is not
    /// kept (and not echoed in later proofs).
    static let maximumLength = 1024

    public init() {}

    /// The latest nonce `url`'s origin gave, if any.
    public func nonce(for url: String) -> String? {
        let origin = EndpointURL.origin(of: url) ?? url
        return nonces.withLock { $0[origin] }
    }

    /// Remembers the nonce of a response to `url`, and says whether that response asks for the
    /// request again with it: `401` with `use_dpop_nonce` in `WWW-Authenticate` and a nonce.
    public func learn(status: Int, headers: HTTPHeaders, url: String) -> Bool {
        guard let nonce = headers.first(name: "dpop-nonce"), !nonce.isEmpty, nonce.utf8.count <= Self.maximumLength
        else { return false }
        let origin = EndpointURL.origin(of: url) ?? url
        nonces.withLock { $0[origin] = nonce }
        return status == 401 && headers[canonicalForm: "www-authenticate"].contains { $0.contains("use_dpop_nonce") }
    }
}
