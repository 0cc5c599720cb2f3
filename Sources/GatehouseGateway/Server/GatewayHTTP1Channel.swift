import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel (the pipeline of `HTTP1Channel`, default limits),
/// with ``ClientReadTimeout``, ``RequestScreening``, ``HTTP10Answers`` and ``DirectProxyHandler`` between NIO's HTTP codec and the
/// conversion to Swift HTTP Types: requests proxied on the event loop stay in NIO's types end
/// to end, and only the router's requests are converted for Hummingbird.
struct GatewayHTTP1Channel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    /// `nil`: every request goes to the router.
    let direct: DirectProxy?
    /// ``ClientReadTimeout``'s limit.
    let clientTimeout: Duration
    /// ``ClientReadTimeout``'s minimum body rate (`nil`: none).
    var bodyRate: MinimumBodyRate? = nil

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // requests are taken one at a time further on
                withErrorHandling: false,  // the request loop answers parse errors
                withOutboundHeaderValidation: false,  // fields come from Swift HTTP Types or ProxyHeaders
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: .init())
            try sync.addHandler(ClientReadTimeout(timeout: TimeAmount(clientTimeout), bodyRate: bodyRate, logger: logger))
            if let direct {
                // DirectProxyHandler screens each request itself (RequestScreening's decision).
                try sync.addHandler(HTTP10Answers())
                try sync.addHandler(DirectProxyHandler(proxy: direct))
            } else {
                try sync.addHandler(RequestScreening(logger: logger))
                try sync.addHandler(HTTP10Answers())
            }
            try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
