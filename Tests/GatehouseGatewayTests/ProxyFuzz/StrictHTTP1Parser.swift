import Foundation

/// A small HTTP/1.1 message parser of our own (RFC 9112), so that the fuzzer's oracle is not
/// the lenient decoder of the code under test.
///
/// Two readings of the same grammar:
/// - ``Mode/upstream`` is what a careful origin server accepts from a proxy: one `Host`, at
///   most one `Content-Length` (digits only), `Transfer-Encoding` exactly `chunked` and never
///   with `Content-Length`, CRLF line ends, no obs-fold. Anything else is *ambiguous* and
///   reported: a gateway must never send it.
/// - ``Mode/client`` is how RFC 9112 tells a server to split a client's byte stream into
///   requests, taking the most permissive reading the RFC allows, so that every request a
///   correct server could see is known: `Transfer-Encoding` overrides `Content-Length` (§6.3,
///   and the connection ends after that request, §6.1), identical `Content-Length` values
///   count as one (RFC 9110 §8.6), HTTP/1.0 with `Transfer-Encoding` has faulty framing and
///   ends the connection (§6.1). What the RFC says to reject ends the stream.
enum StrictHTTP1Parser {
    enum Mode {
        case upstream
        case client
    }

    /// One request as parsed.
    struct Request: Sendable {
        var method: String
        var target: String
        var version: String
        var headers: [Field]
        /// The body after transfer decoding (as far as it arrived).
        var body: [UInt8]
        /// Trailer fields of a chunked body.
        var trailers: [Field]
        var chunked: Bool
        /// Head and body arrived completely.
        var complete: Bool
        /// Where the request starts and ends in the stream.
        var range: Range<Int>
        /// No further request may follow on this connection (`Connection: close`, HTTP/1.0
        /// without keep-alive, ambiguous framing that the RFC resolves but distrusts).
        var endsConnection: Bool
        /// Why the RFC says to refuse this request's framing (its head parsed, its body cannot
        /// be delimited); `nil` for a request that may be served.
        var refusal: String? = nil

        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name }.map(\.value)
        }
    }

    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    enum Outcome {
        case request(Request)
        /// More bytes are needed; `partial` is the request so far once its head is complete.
        case incomplete(partial: Request?)
        /// Not a request this mode accepts (`reason` says why); `head` when only the framing is
        /// wrong.
        case invalid(reason: String, head: Request?)
    }

    static let maximumHead = 64 * 1024

    /// Parses the request that starts at `start` in `bytes`.
    static func parseRequest(_ bytes: [UInt8], from start: Int, mode: Mode) -> Outcome {
        var position = start
        var lines: [Range<Int>] = []
        // Head lines, each ending in CRLF; an empty line ends the head.
        while true {
            guard let lf = bytes[position...].firstIndex(of: 0x0A) else {
                return bytes.count - start > maximumHead ? .invalid(reason: "head too long", head: nil) : .incomplete(partial: nil)
            }
            guard lf > position, bytes[lf - 1] == 0x0D else { return .invalid(reason: "bare LF", head: nil) }
            let line = position..<(lf - 1)
            if bytes[line].contains(0x0D) { return .invalid(reason: "bare CR", head: nil) }
            position = lf + 1
            if line.isEmpty {
                if lines.isEmpty {
                    // RFC 9112 §2.2: a server SHOULD ignore an empty line before the request line.
                    if mode == .client { continue }
                    return .invalid(reason: "empty line before the request line", head: nil)
                }
                break
            }
            lines.append(line)
            if position - start > maximumHead { return .invalid(reason: "head too long", head: nil) }
        }
        guard let requestLine = lines.first else { return .invalid(reason: "no request line", head: nil) }
        let parts = bytes[requestLine].split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .invalid(reason: "request line is not three parts", head: nil) }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { return .invalid(reason: "method is not a token", head: nil) }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .invalid(reason: "request target has a byte outside visible ASCII", head: nil)
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .invalid(reason: "version \(version)", head: nil) }
        var fields: [Field] = []
        for line in lines.dropFirst() {
            guard let field = parseField(bytes[line]) else { return .invalid(reason: "malformed field line", head: nil) }
            fields.append(field)
        }
        var request = Request(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            version: version, headers: fields, body: [], trailers: [], chunked: false, complete: false,
            range: start..<position, endsConnection: false)
        let connection = request.values("connection").flatMap(tokens)
        request.endsConnection =
            connection.contains("close") || (version == "HTTP/1.0" && !connection.contains("keep-alive"))

        // Framing, RFC 9112 §6.
        func refuse(_ reason: String) -> Outcome {
            request.refusal = reason
            return .invalid(reason: reason, head: request)
        }
        let encodings = request.values("transfer-encoding")
        let lengths = request.values("content-length")
        var length = 0
        switch mode {
        case .upstream:
            guard request.values("host").count == 1 else { return refuse("Host fields: \(request.values("host").count)") }
            if !encodings.isEmpty {
                guard lengths.isEmpty else { return refuse("Content-Length with Transfer-Encoding") }
                guard encodings.count == 1, encodings[0].lowercased() == "chunked" else {
                    return refuse("Transfer-Encoding \(encodings)")
                }
                request.chunked = true
            } else if !lengths.isEmpty {
                guard lengths.count == 1, let value = decimal(lengths[0]) else {
                    return refuse("Content-Length \(lengths)")
                }
                length = value
            }
        case .client:
            if !encodings.isEmpty {
                let codings = encodings.flatMap(tokens)
                guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
                    return refuse("Transfer-Encoding without a final chunked")
                }
                request.chunked = true
                if !lengths.isEmpty || version == "HTTP/1.0" { request.endsConnection = true }
            } else if !lengths.isEmpty {
                let values = lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
                    decimal(String($0))
                }
                guard let first = values.first, let value = first, values.allSatisfy({ $0 == value }) else {
                    return refuse("Content-Length \(lengths)")
                }
                length = value
            }
        }

        if request.chunked {
            switch parseChunked(bytes, from: position, into: &request) {
            case .done(let end):
                request.complete = true
                request.range = start..<end
                return .request(request)
            case .needMore:
                return .incomplete(partial: request)
            case .bad(let reason):
                return .invalid(reason: reason, head: nil)
            }
        }
        let available = min(length, bytes.count - position)
        request.body = Array(bytes[position..<(position + available)])
        guard available == length else { return .incomplete(partial: request) }
        request.complete = true
        request.range = start..<(position + length)
        return .request(request)
    }

    enum ChunkOutcome {
        case done(end: Int)
        case needMore
        case bad(String)
    }

    /// RFC 9112 §7.1: chunks, the last chunk, trailer fields, CRLF. The decoded data goes into
    /// `request.body` as it arrives.
    static func parseChunked(_ bytes: [UInt8], from start: Int, into request: inout Request) -> ChunkOutcome {
        var position = start
        func line() -> Range<Int>?? {
            guard let lf = bytes[position...].firstIndex(of: 0x0A) else { return .some(nil) }
            guard lf > position, bytes[lf - 1] == 0x0D else { return nil }
            let range = position..<(lf - 1)
            position = lf + 1
            return .some(range)
        }
        while true {
            guard let sizeLine = line() else { return .bad("bare LF in chunked body") }
            guard let sizeRange = sizeLine else { return .needMore }
            let sizeBytes = bytes[sizeRange].prefix { $0 != UInt8(ascii: ";") }
            let trimmed = sizeBytes.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
            guard !trimmed.isEmpty, trimmed.count <= 8, trimmed.allSatisfy(isHexByte),
                let size = Int(String(decoding: trimmed, as: UTF8.self), radix: 16)
            else { return .bad("chunk size") }
            if bytes[sizeRange].contains(where: { $0 < 0x20 && $0 != 0x09 }) { return .bad("control byte in chunk line") }
            if size == 0 {
                while true {
                    guard let trailer = line() else { return .bad("bare LF in trailers") }
                    guard let trailerRange = trailer else { return .needMore }
                    if trailerRange.isEmpty { return .done(end: position) }
                    guard let field = parseField(bytes[trailerRange]) else { return .bad("malformed trailer field") }
                    request.trailers.append(field)
                }
            }
            let available = min(size, bytes.count - position)
            request.body += bytes[position..<(position + available)]
            guard available == size, bytes.count >= position + size + 2 else { return .needMore }
            guard bytes[position + size] == 0x0D, bytes[position + size + 1] == 0x0A else {
                return .bad("chunk data not followed by CRLF")
            }
            position += size + 2
        }
    }

    /// `name: value` with no whitespace before the colon and optional whitespace around the
    /// value (RFC 9112 §5); obs-fold and control bytes refused.
    static func parseField(_ line: ArraySlice<UInt8>) -> Field? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return nil }
        let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }
            .reversed()
        guard !value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else { return nil }
        return Field(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    /// The comma-separated tokens of a list field, lower case.
    static func tokens(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: [" ", "\t"]).lowercased() }.filter { !$0.isEmpty }
    }

    /// `1*DIGIT` (RFC 9110 §8.6), at most 15 digits.
    static func decimal(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: [" ", "\t"])
        guard !trimmed.isEmpty, trimmed.count <= 15, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(trimmed)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func isHexByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    /// One response as the client reads it.
    struct Response: Sendable {
        var status: Int
        var headers: [Field]
        var body: [UInt8]
        var range: Range<Int>

        func value(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
    }

    enum ResponseOutcome {
        case response(Response)
        case incomplete
        case invalid(reason: String)
    }

    /// A response to a request with `method` starting at `start` (RFC 9112 §6.3: no body after
    /// `HEAD`, 1xx, 204 or 304; chunked; `Content-Length`; else up to the end of the stream,
    /// which `atEnd` says has been reached).
    static func parseResponse(_ bytes: [UInt8], from start: Int, method: String, atEnd: Bool) -> ResponseOutcome {
        guard let headEnd = bytes[start...].firstRange(of: [0x0D, 0x0A, 0x0D, 0x0A]) else {
            if bytes.count > start, !"HTTP/1.".utf8.starts(with: bytes[start...].prefix(7)) {
                return .invalid(reason: "not a status line")
            }
            return .incomplete
        }
        let lines = bytes[start..<headEnd.lowerBound].split(separator: 0x0A).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        guard let statusLine = lines.first, statusLine.starts(with: "HTTP/1.".utf8), statusLine.count >= 12,
            let status = Int(String(decoding: statusLine.dropFirst(9).prefix(3), as: UTF8.self))
        else { return .invalid(reason: "not a status line") }
        var fields: [Field] = []
        for line in lines.dropFirst() {
            guard let field = parseField(line) else { return .invalid(reason: "malformed response field") }
            fields.append(field)
        }
        var response = Response(status: status, headers: fields, body: [], range: start..<headEnd.upperBound)
        let bodyStart = headEnd.upperBound
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .response(response) }
        if let encoding = response.value("transfer-encoding"), tokens(encoding).last == "chunked" {
            var holder = Request(
                method: "", target: "", version: "", headers: [], body: [], trailers: [], chunked: true, complete: false,
                range: 0..<0, endsConnection: false)
            switch parseChunked(bytes, from: bodyStart, into: &holder) {
            case .done(let end):
                response.body = holder.body
                response.range = start..<end
                return .response(response)
            case .needMore: return .incomplete
            case .bad(let reason): return .invalid(reason: reason)
            }
        }
        if let text = response.value("content-length") {
            guard let length = decimal(text) else { return .invalid(reason: "response Content-Length \(text)") }
            guard bytes.count >= bodyStart + length else { return .incomplete }
            response.body = Array(bytes[bodyStart..<(bodyStart + length)])
            response.range = start..<(bodyStart + length)
            return .response(response)
        }
        guard atEnd else { return .incomplete }
        response.body = Array(bytes[bodyStart...])
        response.range = start..<bytes.count
        return .response(response)
    }
}
