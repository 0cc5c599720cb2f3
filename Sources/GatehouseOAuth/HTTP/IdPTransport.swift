import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

import Foundation

/// An answer from the IdP, fully read and bounded in size.
struct IdPResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    /// The media type without parameters, lower-cased (`application/json`).
    var mediaType: String? {
        headers.first(name: "content-type").map {
            $0.split(separator: ";", maxSplits: 1).first.map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() } ?? ""
        }
    }

    /// At most 256 printable characters of the body, for error messages about non-2xx answers.
    var excerpt: String {
        OAuthError.sanitize(String(decoding: body.prefix(256), as: UTF8.self), limit: 256)
    }
}

/// Every call to the IdP goes through here: one shared, pooled `HTTPClient`, a deadline for the
/// whole exchange (connect, send, and reading the body), a response size limit, and HTTPS.
struct IdPTransport: Sendable {
    let client: HTTPClient
    let timeout: Duration
    let maxResponseBytes: Int
    let userAgent: String

    func send(
        _ method: HTTPMethod,
        _ url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        endpoint: String
    ) async throws(OAuthError) -> IdPResponse {
        _ = try EndpointURL.validate(url, name: endpoint)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        if let body {
            request.body = .bytes(body)
        }
        let client = self.client
        let prepared = request
        let limit = self.maxResponseBytes
        let timeout = self.timeout
        do {
            return try await withDeadline(timeout) {
                let response = try await client.execute(prepared, timeout: .nanoseconds(Int64(timeout.nanoseconds)))
                // A redirect is never followed (see OAuthClient.defaultHTTPClient) nor read.
                guard !(300..<400).contains(response.status.code) else {
                    throw OAuthError(
                        .unexpectedStatus, "the \(endpoint) answered with a redirect, which Gatehouse does not follow",
                        httpStatus: Int(response.status.code))
                }
                let bytes = try await response.body.collect(upTo: limit)
                return IdPResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
            }
        } catch let error as OAuthError where error.code == .timeout {
            throw OAuthError(.timeout, "the \(endpoint) did not answer within \(timeout)")
        } catch let error as OAuthError {
            throw error
        } catch is NIOTooManyBytesError {
            throw OAuthError(.responseTooLarge, "the \(endpoint) response exceeded \(limit) bytes")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw OAuthError(.timeout, "the \(endpoint) did not answer within \(timeout)")
        } catch let error as HTTPClientError where error == .connectTimeout {
            throw OAuthError(.timeout, "connecting to the \(endpoint) timed out")
        } catch {
            throw OAuthError(.transport, "the \(endpoint) could not be reached: \(Self.describe(error))")
        }
    }

    /// A transport error's type and short description; never a request body or header.
    private static func describe(_ error: any Error) -> String {
        OAuthError.sanitize(String(describing: error), limit: 160)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Runs `body`, cancelling it and throwing ``OAuthError/Code/timeout`` when `timeout` passes first.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw OAuthError(.timeout, "no answer within \(timeout)")
        }
        return value
    }
}
