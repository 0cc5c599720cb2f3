import Foundation
public import AsyncHTTPClient
import GatehouseHummingbird
import GatehouseOAuth
import NIOCore
public import GatehouseStore
public import Hummingbird
public import Logging
public import Prometheus

/// Forwards requests to `GATEHOUSE_UPSTREAM` with streamed bodies in both directions.
///
/// The HTTP client must not follow redirects (the browser must see the upstream's `302`) nor
/// decompress (bodies pass through byte for byte): see ``makeHTTPClient()``.
public struct ReverseProxy: Sendable {
    let client: HTTPClient
    /// Scheme, authority and optional base path, without a trailing slash.
    private(set) var upstream: String
    let trustedProxies: TrustedProxies
    private(set) var passAccessToken: Bool
    /// Whether the identity fields (`X-Forwarded-User`, …) are sent (a route's
    /// `identity_headers`). Default `true`.
    private(set) var identityHeaders = true
    /// A `token: client_credentials` route's token, relayed instead of the user's.
    private(set) var serviceToken: ServiceToken?
    /// The scheme reported in `X-Forwarded-Proto` when no trusted proxy states one.
    let publicScheme: String
    /// The public host for `X-Forwarded-Host` and `GATEHOUSE_STRIP_REQUEST_HEADERS`.
    let headerSettings: ProxyHeaders.Settings
    /// How long the upstream may take to send its response head. Default 60 seconds. The
    /// body then streams without a deadline (long downloads, server-sent events).
    let headTimeout: Duration
    /// Records the time until the upstream's response head (or failure); `nil`: not recorded.
    let upstreamDuration: DurationHistogram?
    /// Proofs and upstream nonces for DPoP-bound tokens, shared by every route.
    let dpop = UpstreamDPoP()
    let logger: Logger

    public init(
        client: HTTPClient, upstream: String, trustedProxies: TrustedProxies, passAccessToken: Bool,
        publicScheme: String, publicHost: String? = nil, stripRequestHeaders: [String] = [],
        headTimeout: Duration = .seconds(60), upstreamDuration: DurationHistogram? = nil,
        logger: Logger
    ) {
        self.client = client
        self.upstream = upstream
        self.trustedProxies = trustedProxies
        self.passAccessToken = passAccessToken
        self.publicScheme = publicScheme
        self.headerSettings = ProxyHeaders.Settings(publicHost: publicHost, stripped: stripRequestHeaders)
        self.headTimeout = headTimeout
        self.upstreamDuration = upstreamDuration
        self.logger = logger
    }

    /// This proxy for `route`: its upstream, token relay and identity fields; the HTTP client
    /// and everything else shared.
    func serving(_ route: Route, serviceToken: ServiceToken? = nil) -> ReverseProxy {
        var proxy = self
        proxy.upstream = route.upstream
        proxy.passAccessToken = route.passAccessToken
        proxy.identityHeaders = route.identityHeaders
        proxy.serviceToken = serviceToken
        return proxy
    }

    /// The service token to relay: `.success(nil)` on a route without one, `.failure` with
    /// the page to answer when it cannot be had.
    func serviceAccessToken() async -> Result<String?, ServiceTokenUnavailable> {
        guard let serviceToken else { return .success(nil) }
        guard let token = await serviceToken.accessToken() else { return .failure(ServiceTokenUnavailable()) }
        return .success(token)
    }

    /// Responses with a `Content-Length` up to this size are read whole before answering;
    /// larger or unknown-length bodies stream through.
    static let bufferedBodyLimit = 64 * 1024

    /// The client the proxy needs: no redirects, no decompression, up to `maxConnections`
    /// connections to the upstream (beyond them requests queue for a free one; the default 8
    /// would queue requests behind long polls and downloads). Connection attempts are retried
    /// with backoff for at most 5 seconds (an upstream that is restarting is waited for
    /// briefly), then the request fails with a `502`.
    public static func makeHTTPClient(maxConnections: Int = 512) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnections
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `request` upstream and streams the answer back; `502` page when the upstream
    /// cannot be reached, `504` when its head does not arrive in time.
    public func forward(_ request: Request, peerIP: String?, session: Session?) async -> Response {
        await forward(request, peerIP: peerIP, principal: session.map(ProxyPrincipal.session) ?? .anonymous)
    }

    /// Sends `request` upstream on behalf of `principal` (see ``ProxyHeaders``).
    public func forward(_ request: Request, peerIP: String?, principal: ProxyPrincipal) async -> Response {
        // The target is appended to the upstream's URL: anything but a path would change its
        // host, and what AsyncHTTPClient sends must be what admission was decided on.
        guard request.method != .connect, let target = try? RequestTarget(request.rawTarget),
            let url = Self.upstreamURL(base: upstream, target: target)
        else {
            logger.notice("request target refused", metadata: ["method": "\(request.method)"])
            return GatewayMiddleware.badTargetResponse(request)
        }
        let service: String?
        switch await serviceAccessToken() {
        case .success(let token): service = token
        case .failure: return ServiceToken.unavailablePage.response()
        }
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = .init(rawValue: request.method.rawValue)
        outgoing.headers = ProxyHeaders.request(
            request.head, peerIP: peerIP, trusted: trustedProxies.trusts(peerIP), defaultScheme: publicScheme,
            settings: headerSettings, principal: principal, passAccessToken: passAccessToken,
            identityHeaders: identityHeaders, serviceToken: service)
        // One upstream connection per request on this path: AsyncHTTPClient's pool would reuse
        // a connection after signs of desync it cannot report (bytes after a response, an
        // unexpected 1xx). The hot path (DirectProxy) pools its own, paranoid connections.
        outgoing.headers.replaceOrAdd(name: "Connection", value: "close")
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }) {
            if length > 0 { outgoing.body = .stream(request.body, length: .known(length)) }
        } else if request.headers[.transferEncoding] != nil {
            outgoing.body = .stream(request.body, length: .unknown)
        }
        let binding = service == nil ? UpstreamDPoP.binding(of: principal, relaysToken: passAccessToken) : nil
        let started = ContinuousClock.now
        do {
            var response: HTTPClientResponse
            do {
                response = try await sendUpstream(outgoing, binding: binding)
                upstreamDuration?.record(ContinuousClock.now - started)
            } catch {
                upstreamDuration?.record(ContinuousClock.now - started)
                throw error
            }
            guard response.status.code >= 200 else {
                // A 101 (or other 1xx as final answer) to a request that asked for no upgrade.
                logger.warning("upstream answered with an informational status", metadata: ["status": "\(response.status.code)"])
                return Self.unavailablePage.response()
            }
            let status = HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase)
            let headers = ProxyHeaders.responseFields(response.headers)
            if let length = response.headers.first(name: "content-length").flatMap(Int.init),
                length <= Self.bufferedBodyLimit
            {
                // A small body of known length is read whole, so that the head and the body
                // leave in one write instead of three.
                let body = try await response.body.collect(upTo: length)
                return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
            }
            return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: response.body))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            logger.warning("upstream timed out", metadata: ["path": "\(target.path)"])
            return Self.timeoutPage.response()
        } catch {
            logger.error("upstream unreachable", metadata: ["error": "\(type(of: error))"])
            return Self.unavailablePage.response()
        }
    }

    /// Sends `outgoing`; with a DPoP-bound token, with a fresh proof, and once more with the
    /// upstream's new nonce when it asks for one and the request has no body to send again.
    private func sendUpstream(
        _ outgoing: HTTPClientRequest, binding: (key: DPoPKey, accessToken: String)?
    ) async throws -> HTTPClientResponse {
        guard let binding else { return try await client.execute(outgoing, timeout: TimeAmount(headTimeout)) }
        var attempt = outgoing
        var retried = false
        while true {
            guard dpop.addProof(to: &attempt.headers, binding: binding, method: outgoing.method.rawValue, url: outgoing.url)
            else { throw DPoPProofUnavailable() }
            let response = try await client.execute(attempt, timeout: TimeAmount(headTimeout))
            let asksAgain = dpop.nonces.learn(status: Int(response.status.code), headers: response.headers, url: outgoing.url)
            guard asksAgain, !retried, outgoing.body == nil else { return response }
            retried = true
            // The refusal's body is read and dropped; the connection closes anyway.
            _ = try? await response.body.collect(upTo: Self.bufferedBodyLimit)
        }
    }

    /// A DPoP proof could not be signed (the request is not sent).
    struct DPoPProofUnavailable: Error {}

    /// `base` + the target, when AsyncHTTPClient will send exactly `base`'s path followed by
    /// ``RequestTarget/forwarded`` (it re-parses the URL with Foundation and sends
    /// `URLComponents.percentEncodedPath` and `URL.query`); `nil` otherwise, so that a target
    /// is never forwarded in another shape than the one admission saw.
    static func upstreamURL(base: String, target: RequestTarget) -> String? {
        let url = base + target.forwarded
        guard let parsed = URL(string: url), let baseURL = URL(string: base) else { return nil }
        let basePath = URLComponents(url: baseURL, resolvingAgainstBaseURL: true)?.percentEncodedPath ?? ""
        guard let path = URLComponents(url: parsed, resolvingAgainstBaseURL: true)?.percentEncodedPath else { return nil }
        let sent = path + (parsed.query.map { "?" + $0 } ?? "")
        return sent == basePath + target.forwarded ? url : nil
    }

    /// A route's service token could not be had (logged by ``ServiceToken``).
    struct ServiceTokenUnavailable: Error {}

    /// The `504` page for an upstream whose response head did not arrive in time.
    static var timeoutPage: Page {
        Page(
            status: .gatewayTimeout, title: "Application not responding",
            message: "The application behind this gateway did not answer in time.", category: "upstream_timeout")
    }

    /// The `502` page for an upstream that cannot be reached.
    static var unavailablePage: Page {
        Page(
            status: .badGateway, title: "Application unavailable",
            message: "The application behind this gateway cannot be reached right now.",
            category: "upstream_unavailable")
    }
}
