import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends one ``FuzzCase`` on a raw TCP connection — the gateway sees exactly the generated
/// bytes — and reads the answers with ``StrictHTTP1Parser/parseResponse(_:from:method:atEnd:)``.
enum FuzzClient {
    struct Outcome {
        /// Final responses (1xx skipped), in order.
        var responses: [StrictHTTP1Parser.Response] = []
        /// Bytes where a response should have started but none did.
        var garbage: [UInt8]?
        /// The connection was still waiting for an answer at the ``deadline``.
        var timedOut = false
    }

    /// How long one connection may take, answers included.
    static let deadline = TimeAmount.seconds(8)

    /// Sends `bytes` (the case's, cut for an early close) as `delivery` says; `units` are the
    /// top-level requests in them.
    static func run(
        _ delivery: FuzzCase.Delivery, bytes: [UInt8], units: [StrictHTTP1Parser.Request], port: Int
    ) async -> Outcome {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return Outcome()
        }
        let raw = channel.channel
        let timedOut = NIOLockedValueBox(false)
        let overall = raw.eventLoop.scheduleTask(in: deadline) {
            timedOut.withLockedValue { $0 = true }
            raw.close(promise: nil)
        }
        defer { overall.cancel() }
        // Answers are awaited up to the first request after which the connection ends.
        var awaited: [StrictHTTP1Parser.Request] = []
        for unit in units where unit.complete {
            awaited.append(unit)
            if unit.endsConnection { break }
        }
        var outcome = (try? await channel.executeThenClose { inbound, outbound in
            var reader = Reader(iterator: inbound.makeAsyncIterator())
            var outcome = Outcome()
            func send(_ slice: ArraySlice<UInt8>) async -> Bool {
                do {
                    try await outbound.write(ByteBuffer(bytes: slice))
                    return true
                } catch {
                    return false
                }
            }
            func pause(_ milliseconds: Int) async {
                try? await Task.sleep(for: .milliseconds(milliseconds))
            }
            /// Reads the next final answer into `outcome`; false when there is none.
            func read(for unit: StrictHTTP1Parser.Request) async -> Bool {
                switch await reader.next(method: unit.method) {
                case .response(let response):
                    outcome.responses.append(response)
                    return true
                case .garbage(let bytes):
                    outcome.garbage = bytes
                    return false
                case .end:
                    return false
                }
            }
            switch delivery {
            case .earlyClose(let cut):
                _ = await send(bytes[..<cut])
            case .pipelined(let cuts, let milliseconds):
                var start = 0
                for cut in cuts + [bytes.count] where cut > start {
                    if start > 0 { await pause(milliseconds) }
                    guard await send(bytes[start..<cut]) else { break }
                    start = cut
                }
                for unit in awaited {
                    guard await read(for: unit) else { break }
                }
            case .sequential(let milliseconds):
                var sent = 0
                for unit in awaited {
                    let range = sent..<unit.range.upperBound
                    if milliseconds > 0, range.count > 1 {
                        let middle = range.lowerBound + range.count / 2
                        guard await send(bytes[range.lowerBound..<middle]) else { break }
                        await pause(milliseconds)
                        guard await send(bytes[middle..<range.upperBound]) else { break }
                    } else {
                        guard await send(bytes[range]) else { break }
                    }
                    sent = range.upperBound
                    guard await read(for: unit) else { break }
                }
                if sent < bytes.count, !reader.ended { _ = await send(bytes[sent...]) }
            }
            return outcome
        }) ?? Outcome()
        outcome.timedOut = timedOut.withLockedValue { $0 }
        return outcome
    }

    struct Reader {
        enum Next {
            case response(StrictHTTP1Parser.Response)
            case garbage([UInt8])
            case end
        }

        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var bytes: [UInt8] = []
        var position = 0
        var ended = false

        /// The next final response (interim 1xx skipped) to a request with `method`.
        mutating func next(method: String) async -> Next {
            while true {
                switch StrictHTTP1Parser.parseResponse(bytes, from: position, method: method, atEnd: ended) {
                case .response(let response):
                    position = response.range.upperBound
                    if (100..<200).contains(response.status), response.status != 101 { continue }
                    return .response(response)
                case .invalid:
                    return .garbage(Array(bytes[position...]))
                case .incomplete:
                    if ended { return .end }
                    do {
                        if let chunk = try await iterator.next() {
                            bytes += chunk.readableBytesView
                        } else {
                            ended = true
                        }
                    } catch {
                        ended = true
                    }
                }
            }
        }
    }
}
